// The route table.
#include "http/app.hpp"

#include "http/handler_support.hpp"

namespace marketlink::http {

Router build_router(App& app) {
  Router router;
  add_ops_routes(router, app);
  add_account_routes(router, app);
  add_admin_routes(router, app);
  add_catalog_routes(router, app);
  add_order_routes(router, app);
  add_payment_routes(router, app);
  add_console_routes(router, app);
  add_docs_routes(router, app);
  add_cluster_routes(router, app);
  return router;
}

}  // namespace marketlink::http
