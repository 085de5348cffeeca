// How the console answers a node's refusal over HTTP: the node's own
// message, never a stack trace or a blank page.
#ifndef CUSTODY_CLIENT_WEB_HTTP_STATUS_H_
#define CUSTODY_CLIENT_WEB_HTTP_STATUS_H_

#include <string>

#include "absl/status/status.h"

namespace custody::web {

// 400, 401, 403, 404, 409, 429, 503, 504 or 500 for `s` (not OK).
int HttpStatusOf(const absl::Status& s);
// {"code": "PERMISSION_DENIED", "message": "..."}
std::string ErrorJson(const absl::Status& s);

}  // namespace custody::web

#endif  // CUSTODY_CLIENT_WEB_HTTP_STATUS_H_
