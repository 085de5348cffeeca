// Small Status helpers: our Abseil (20220623) has no ABSL_RETURN_IF_ERROR.
#ifndef CUSTODY_COMMON_STATUS_MACROS_H_
#define CUSTODY_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define CUSTODY_CONCAT_INNER_(a, b) a##b
#define CUSTODY_CONCAT_(a, b) CUSTODY_CONCAT_INNER_(a, b)

// Returns from the current function when `expr` yields a non-OK status.
#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status custody_status_ = (expr);           \
    if (!custody_status_.ok()) return custody_status_; \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, StatusOrExpr())` declares/assigns x, or returns
// the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(CUSTODY_CONCAT_(custody_sor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.status();          \
  lhs = std::move(tmp).value()

#endif  // CUSTODY_COMMON_STATUS_MACROS_H_
