"""Sign-in throttling: guessers are slowed, the real user on a known device or address is not."""

from __future__ import annotations

from core.api.throttle import Attempt, LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_guesses_from_rotating_addresses_never_lock_the_user_out_of_their_usual_address() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    marie = Attempt("Marie Dupont", "198.51.100.7")
    throttle.succeeded(marie)  # her desk, yesterday
    for n in range(200):  # five guesses per address, from forty addresses
        guess = Attempt("Marie Dupont", f"203.0.113.{n // 5}")
        throttle.failed(guess)
        clock.now += 1
    assert throttle.wait(marie) == 0
    assert throttle.wait(Attempt("Marie Dupont", "203.0.113.99")) > 0  # a stranger's next guess waits


def test_the_device_cookie_lets_the_users_browser_in_from_a_new_address() -> None:
    throttle = LoginThrottle(Clock())
    device = throttle.succeeded(Attempt("Marie Dupont", "198.51.100.7"))
    for n in range(30):
        throttle.failed(Attempt("Marie Dupont", f"203.0.113.{n}"))
    on_the_move = Attempt("Marie Dupont", "192.0.2.44", device)
    assert throttle.wait(Attempt("Marie Dupont", "192.0.2.44")) > 0
    assert throttle.wait(on_the_move) == 0
    assert throttle.succeeded(on_the_move) == device  # the browser keeps its cookie


def test_five_wrong_passwords_from_one_place_lock_that_place_then_longer() -> None:
    clock = Clock()
    throttle = LoginThrottle(clock)
    here = Attempt("Léa", "198.51.100.8")
    for _ in range(4):
        throttle.failed(here)
    assert throttle.wait(here) == 0
    throttle.failed(here)
    assert throttle.wait(here) == 30
    clock.now += 31
    for _ in range(5):
        throttle.failed(here)
    assert throttle.wait(here) == 60
    assert throttle.wait(Attempt("Léa", "198.51.100.9")) == 0  # her colleague's desk is not concerned


def test_one_address_guessing_many_names_is_slowed_on_every_name() -> None:
    throttle = LoginThrottle(Clock())
    for n in range(10):
        throttle.failed(Attempt(f"agent{n}", "203.0.113.5"))
    assert throttle.wait(Attempt("agent42", "203.0.113.5")) > 0
    assert throttle.wait(Attempt("agent42", "198.51.100.7")) == 0
