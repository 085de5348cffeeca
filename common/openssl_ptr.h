// Owning pointers to OpenSSL objects: std::unique_ptr with the object's own
// free function, so that every early return frees what was made.
#ifndef CUSTODY_COMMON_OPENSSL_PTR_H_
#define CUSTODY_COMMON_OPENSSL_PTR_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>

namespace custody {

template <typename T, void (*F)(T*)>
struct OpensslFreer {
  void operator()(T* p) const { F(p); }
};
template <typename T, void (*F)(T*)>
using OpensslPtr = std::unique_ptr<T, OpensslFreer<T, F>>;

using X509Ptr = OpensslPtr<X509, X509_free>;
using KeyPtr = OpensslPtr<EVP_PKEY, EVP_PKEY_free>;
using BioPtr = OpensslPtr<BIO, BIO_vfree>;

}  // namespace custody

#endif  // CUSTODY_COMMON_OPENSSL_PTR_H_
