// Strategies and algorithms: /api/v1/strategies…, /api/v1/algorithms.
#include "api/detail/routes.h"

namespace granska::api::detail {

void RouteStrategies(httplib::Server& http, ApiContext& context) {
    (void)http;
    (void)context;
}

}  // namespace granska::api::detail
