// Renders the server's own API document (/api/schema/) with Swagger UI. Requests made with
// "Try it out" go to this server; nothing is fetched from elsewhere (no validator badge).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/schema/",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null,
    persistAuthorization: false,
    displayRequestDuration: true,
  });
});
