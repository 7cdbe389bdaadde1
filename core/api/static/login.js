import { ApiError, T, api, h, header, main } from "./app.js";

await header("login");

// Where to go after signing in: a page of this server only. A browser reads "/\\evil.example"
// (or "/%5Cevil.example") as "//evil.example": the address is resolved as the browser would,
// and anything on another origin, with a scheme, or with a backslash goes to the home page.
function sameSite(next) {
  if (!next || !next.startsWith("/") || next.includes("\\")) return "/";
  let url;
  try { url = new URL(next, location.origin); } catch { return "/"; }
  return url.origin === location.origin ? url.pathname + url.search + url.hash : "/";
}
// "30 s", "2 min", "1 h 5 min": how long before the next try, as a person says it
function waitText(seconds) {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.ceil(seconds / 60);
  return minutes < 60 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
const error = h("p", { class: "error", role: "alert", id: "signin-error" });
const user = h("input", { id: "user", name: "user", autocomplete: "username", required: true, autofocus: true });
const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password",
  required: true });
const form = h("form", { onsubmit: async (event) => {
  event.preventDefault();
  error.textContent = "";
  try {
    await api("/auth/session", { method: "POST", body: { user: user.value, password: password.value } });
    location.assign(sameSite(new URLSearchParams(location.search).get("next")));
  } catch (failure) {
    error.textContent = !(failure instanceof ApiError) ? failure.message
      : failure.status === 401 ? T("wrong")
      : failure.status === 429 ? T("locked").replace("{wait}", waitText(failure.retryAfter || 30))
      : failure.message;
    password.value = "";
    password.focus();
  }
} },
  h("label", { for: "user" }, T("user")), user,
  h("label", { for: "password" }, T("password")), password,
  h("button", { type: "submit", class: "primary" }, T("sign_in")),
  error,
);
main().replaceChildren(h("section", { class: "panel signin" }, h("h1", {}, T("sign_in")), form));
