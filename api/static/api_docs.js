// Swagger UI over Sift's own OpenAPI document; every asset is served by Sift (offline).
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  validatorUrl: null,
});
