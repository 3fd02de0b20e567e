import { strings, api, setLanguage, language } from "/js/core.js";

const t = strings("login", {
  ru: { "login.title": "АРМ оператора", "login.user": "Пользователь", "login.password": "Пароль", "login.submit": "Войти",
        "login.bad": "Неверное имя пользователя или пароль", "login.wrong_role": "Эта страница недоступна для вашей роли" },
  en: { "login.title": "Operator workstation", "login.user": "User name", "login.password": "Password", "login.submit": "Sign in",
        "login.bad": "Wrong user name or password", "login.wrong_role": "That page is not available for your role" },
});

const HOME = { operator: "/operator.html", tech_support: "/support.html", supervisor: "/supervisor.html",
               analyst: "/analyst.html", marketing: "/marketing.html", admin: "/supervisor.html" };

function paint() {
  document.getElementById("title").textContent = t("login.title");
  document.querySelectorAll("[data-t]").forEach((el) => { el.textContent = t(el.dataset.t); });
  document.documentElement.lang = language();
  document.title = t("login.title");
  document.querySelectorAll("[data-lang]").forEach((b) => b.classList.toggle("on", b.dataset.lang === language()));
}
document.querySelectorAll("[data-lang]").forEach((b) => b.addEventListener("click", async () => { await setLanguage(b.dataset.lang, false); paint(); }));
paint();
if (new URLSearchParams(location.search).has("wrong_role")) document.getElementById("login-error").textContent = t("login.wrong_role");

document.getElementById("login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const err = document.getElementById("login-error");
  err.textContent = "";
  try {
    const me = await api("/api/auth/login", { method: "POST", body: {
      username: document.getElementById("username").value.trim(), password: document.getElementById("password").value } });
    location.href = HOME[me.role] || "/operator.html";
  } catch (ex) {
    err.textContent = ex.error_id === "bad_credentials" ? t("login.bad") : ex.message;
  }
});
