// The API reference: Swagger UI from the server's own assets (no inline script, no CDN).
const where = document.getElementById("swagger-ui");
window.SwaggerUIBundle({ url: where.dataset.spec, dom_id: "#swagger-ui", deepLinking: true, validatorUrl: null });
