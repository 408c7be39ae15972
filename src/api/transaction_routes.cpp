// Transactions: /api/v1/transactions, /api/v1/transactions/{id}, /api/v1/transactions/anomalies.
#include "api/detail/routes.h"

namespace granska::api::detail {

void RouteTransactions(httplib::Server& http, ApiContext& context) {
    (void)http;
    (void)context;
}

}  // namespace granska::api::detail
