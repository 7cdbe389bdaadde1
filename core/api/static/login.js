import { ApiError, T, api, h, header, main } from "./app.js";

await header("login");
const error = h("p", { class: "error", role: "alert", id: "signin-error" });
const user = h("input", { id: "user", name: "user", autocomplete: "username", required: true, autofocus: true });
const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password",
  required: true });
const form = h("form", { onsubmit: async (event) => {
  event.preventDefault();
  error.textContent = "";
  try {
    await api("/auth/session", { method: "POST", body: { user: user.value, password: password.value } });
    const next = new URLSearchParams(location.search).get("next") || "/";
    location.assign(next.startsWith("/") && !next.startsWith("//") ? next : "/");
  } catch (failure) {
    error.textContent = failure instanceof ApiError && failure.status === 401 ? T("wrong") : failure.message;
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
