// AdminApi, shared membership (issue 7, "One customer across stores"; docs/api.md, "Customers"):
// the "member" block of GET /api/v1/customers/{id}, which says whose books the customer's
// account uses and on which stores the member has an account (where its rewards can be issued).
#include <nlohmann/json.hpp>

#include "http/admin_api.h"
#include "http/api_reply.h"

namespace loyaltyd {

bool AdminApi::AddMemberDetail(const CustomerRecord& customer, nlohmann::json& out,
                               httplib::Response& res) {
  Result<std::optional<MembershipRecord>> membership = storage_.GetMembership(customer.id);
  if (!membership.ok()) {
    api_reply::ReplyStorageError(res, membership.status());
    return false;
  }
  if (!membership->has_value()) return true;  // redacted in between: nothing to add
  nlohmann::json accounts = nlohmann::json::array();
  for (const CustomerRecord& account : (*membership)->accounts) {
    accounts.push_back(
        {{"customer_id", account.id},
         {"shop_id", account.shop_id},
         {"platform_customer_id", account.platform_customer_id.empty()
                                      ? nlohmann::json(nullptr)
                                      : nlohmann::json(account.platform_customer_id)}});
  }
  // member_id == id: this customer holds the books (alone, or for the accounts listed). A
  // different member_id: this account's points, credit and tier are that customer's; read
  // and redeem them there (a redemption through this id is paid by the member too).
  out["member"] = {{"member_id", (*membership)->member_id}, {"accounts", std::move(accounts)}};
  return true;
}

}  // namespace loyaltyd
