// The API documentation page: Swagger UI (vendored) over the OpenAPI schema.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    // No badge from the public online validator: nothing leaves this site.
    validatorUrl: null,
    // Calls from "Try it out" use the browser's session; the page carries the CSRF token
    // (the cookie's name differs outside DEBUG, and the page need not read cookies).
    requestInterceptor: function (request) {
      if (request.method && request.method !== "GET") {
        request.headers["X-CSRFToken"] = root.dataset.csrfToken;
      }
      return request;
    },
  });
})();
