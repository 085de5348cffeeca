#include "common/timestamp_token.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <memory>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/openssl_ptr.h"
#include "common/status_macros.h"

namespace custody {
namespace {

using ReqPtr = OpensslPtr<TS_REQ, TS_REQ_free>;
using RespPtr = OpensslPtr<TS_RESP, TS_RESP_free>;
using Pkcs7Ptr = OpensslPtr<PKCS7, PKCS7_free>;
using TstPtr = OpensslPtr<TS_TST_INFO, TS_TST_INFO_free>;
using ImprintPtr = OpensslPtr<TS_MSG_IMPRINT, TS_MSG_IMPRINT_free>;
using AlgPtr = OpensslPtr<X509_ALGOR, X509_ALGOR_free>;
using IntPtr = OpensslPtr<ASN1_INTEGER, ASN1_INTEGER_free>;
using VerifyPtr = OpensslPtr<TS_VERIFY_CTX, TS_VERIFY_CTX_free>;

std::string OpensslError() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no detail from OpenSSL";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

const unsigned char* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

template <typename T, int (*I2D)(const T*, unsigned char**)>
std::string Der(const T* v) {
  int n = I2D(v, nullptr);
  if (n <= 0) return "";
  std::string out(static_cast<size_t>(n), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(out.data());
  I2D(v, &p);
  return out;
}

absl::StatusOr<Pkcs7Ptr> ParseToken(absl::string_view token) {
  const unsigned char* p = Bytes(token);
  Pkcs7Ptr p7(d2i_PKCS7(nullptr, &p, static_cast<long>(token.size())));
  if (!p7 || p != Bytes(token) + token.size() || !PKCS7_type_is_signed(p7.get()) ||
      p7->d.sign == nullptr) {
    ERR_clear_error();
    return absl::DataLossError("the time-stamp token is not DER CMS SignedData");
  }
  return p7;
}

std::string IntegerHex(const ASN1_INTEGER* v) {
  if (v == nullptr) return "";
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(ASN1_STRING_get0_data(v)),
                        static_cast<size_t>(ASN1_STRING_length(v))));
}

absl::StatusOr<TimestampFacts> Facts(PKCS7* p7) {
  TstPtr tst(PKCS7_to_TS_TST_INFO(p7));
  if (!tst) return absl::DataLossError("the token holds no TSTInfo: " + OpensslError());
  TimestampFacts f;
  struct tm tm {};
  const ASN1_GENERALIZEDTIME* gen = TS_TST_INFO_get_time(tst.get());
  if (gen == nullptr || ASN1_TIME_to_tm(gen, &tm) != 1) {
    return absl::DataLossError("the token's time is malformed");
  }
  f.time = absl::FromUnixSeconds(timegm(&tm));
  f.serial = IntegerHex(TS_TST_INFO_get_serial(tst.get()));
  STACK_OF(X509)* certs = p7->d.sign != nullptr ? p7->d.sign->cert : nullptr;
  if (certs != nullptr && sk_X509_num(certs) > 0) {
    char name[256];
    X509_NAME_oneline(X509_get_subject_name(sk_X509_value(certs, 0)), name, sizeof name);
    f.tsa = name;
  }
  return f;
}

// Whether the token stamps `imprint` (SHA-256) and carries `nonce`.
absl::Status MatchesQuery(PKCS7* p7, const TS_REQ* req) {
  TstPtr tst(PKCS7_to_TS_TST_INFO(p7));
  if (!tst) return absl::DataLossError("the token holds no TSTInfo");
  ASN1_OCTET_STRING* got = TS_MSG_IMPRINT_get_msg(TS_TST_INFO_get_msg_imprint(tst.get()));
  ASN1_OCTET_STRING* want =
      TS_MSG_IMPRINT_get_msg(TS_REQ_get_msg_imprint(const_cast<TS_REQ*>(req)));
  if (ASN1_OCTET_STRING_cmp(got, want) != 0) {
    return absl::DataLossError("the TSA's token stamps another digest than the one asked for");
  }
  const ASN1_INTEGER* nonce = TS_TST_INFO_get_nonce(tst.get());
  if (nonce == nullptr || ASN1_INTEGER_cmp(nonce, TS_REQ_get_nonce(req)) != 0) {
    return absl::DataLossError("the TSA's token does not carry the query's nonce (a replay?)");
  }
  return absl::OkStatus();
}

// Every certificate in `pem` (the TSA's, and any chain above it).
absl::StatusOr<std::vector<X509Ptr>> ReadCerts(absl::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<X509Ptr> out;
  while (bio) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    out.push_back(std::move(cert));
  }
  ERR_clear_error();
  if (out.empty())
    return absl::InvalidArgumentError("the TSA certificate is not a PEM certificate");
  return out;
}

// The certificates a token carries are not covered by its signature: each
// must be one of those trusted, byte for byte, so that no byte of a token
// can change unnoticed.
absl::Status EmbeddedCertsTrusted(PKCS7* p7, const std::vector<X509Ptr>& trusted) {
  STACK_OF(X509)* certs = p7->d.sign != nullptr ? p7->d.sign->cert : nullptr;
  for (int i = 0; certs != nullptr && i < sk_X509_num(certs); ++i) {
    bool found = false;
    for (const X509Ptr& t : trusted)
      found = found || X509_cmp(sk_X509_value(certs, i), t.get()) == 0;
    if (!found) {
      return absl::DataLossError(
          "the time-stamp token carries a certificate that is not the trusted TSA's");
    }
  }
  return absl::OkStatus();
}

// An AlgorithmIdentifier's parameters: absent or NULL, as for SHA-2 and ECDSA.
bool PlainParams(const X509_ALGOR* alg) {
  int ptype = V_ASN1_UNDEF;
  X509_ALGOR_get0(nullptr, &ptype, nullptr, alg);
  return ptype == V_ASN1_UNDEF || ptype == V_ASN1_NULL;
}

// OpenSSL's CMS check passes over descriptive fields that the signature
// does not cover: the versions, the algorithms' parameters, and which
// digest the signature algorithm names. Each must be what RFC 5652 and RFC
// 3161 say, so that a changed byte there is refused too.
absl::Status SignerInfoStrict(PKCS7* p7) {
  PKCS7_SIGNED* sd = p7->d.sign;
  if (ASN1_INTEGER_get(sd->version) != 3) {
    return absl::DataLossError("the token's SignedData version is not 3");
  }
  for (int i = 0; i < sk_X509_ALGOR_num(sd->md_algs); ++i) {
    if (!PlainParams(sk_X509_ALGOR_value(sd->md_algs, i))) {
      return absl::DataLossError("the token's digest algorithms carry parameters");
    }
  }
  STACK_OF(PKCS7_SIGNER_INFO)* infos = PKCS7_get_signer_info(p7);
  if (infos == nullptr || sk_PKCS7_SIGNER_INFO_num(infos) != 1) {
    return absl::DataLossError("the time-stamp token must have exactly one signer");
  }
  PKCS7_SIGNER_INFO* si = sk_PKCS7_SIGNER_INFO_value(infos, 0);
  if (ASN1_INTEGER_get(si->version) != 1) {
    return absl::DataLossError("the token's SignerInfo version is not 1");
  }
  X509_ALGOR *digest = nullptr, *sig = nullptr;
  PKCS7_SIGNER_INFO_get0_algs(si, nullptr, &digest, &sig);
  if (digest == nullptr || sig == nullptr || !PlainParams(digest) || !PlainParams(sig)) {
    return absl::DataLossError("the token's signer algorithms are malformed");
  }
  int sig_digest = NID_undef, key_type = NID_undef;
  int digest_nid = OBJ_obj2nid(digest->algorithm), sig_nid = OBJ_obj2nid(sig->algorithm);
  bool key_only = sig_nid == NID_rsaEncryption || sig_nid == NID_X9_62_id_ecPublicKey;
  if (!key_only && (OBJ_find_sigid_algs(sig_nid, &sig_digest, &key_type) != 1 ||
                    (sig_digest != NID_undef && sig_digest != digest_nid))) {
    return absl::DataLossError("the token's signature algorithm does not match its digest");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> MakeTimestampQuery(const Digest& imprint) {
  ReqPtr req(TS_REQ_new());
  ImprintPtr mi(TS_MSG_IMPRINT_new());
  AlgPtr alg(X509_ALGOR_new());
  unsigned char nonce_bytes[8];
  if (!req || !mi || !alg || RAND_bytes(nonce_bytes, sizeof nonce_bytes) != 1) {
    return absl::InternalError("cannot make a time-stamp query: " + OpensslError());
  }
  nonce_bytes[0] &= 0x7f;  // positive
  IntPtr nonce(ASN1_INTEGER_new());
  BIGNUM* bn = BN_bin2bn(nonce_bytes, sizeof nonce_bytes, nullptr);
  bool ok = nonce && bn && BN_to_ASN1_INTEGER(bn, nonce.get()) != nullptr;
  BN_free(bn);
  ok = ok && X509_ALGOR_set0(alg.get(), OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr) == 1 &&
       TS_MSG_IMPRINT_set_algo(mi.get(), alg.get()) == 1 &&
       TS_MSG_IMPRINT_set_msg(mi.get(), const_cast<unsigned char*>(imprint.data()),
                              Digest::kSize) == 1 &&
       TS_REQ_set_version(req.get(), 1) == 1 && TS_REQ_set_msg_imprint(req.get(), mi.get()) == 1 &&
       TS_REQ_set_nonce(req.get(), nonce.get()) == 1 && TS_REQ_set_cert_req(req.get(), 1) == 1;
  if (!ok) return absl::InternalError("cannot make a time-stamp query: " + OpensslError());
  return Der<TS_REQ, i2d_TS_REQ>(req.get());
}

absl::StatusOr<std::string> TokenFromReply(absl::string_view reply, absl::string_view query) {
  const unsigned char* q = Bytes(query);
  ReqPtr req(d2i_TS_REQ(nullptr, &q, static_cast<long>(query.size())));
  if (!req) return absl::InvalidArgumentError("the time-stamp query is malformed");
  const unsigned char* p = Bytes(reply);
  RespPtr resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(reply.size())));
  if (!resp) {
    ERR_clear_error();
    return absl::DataLossError("the TSA's reply is not a DER TimeStampResp");
  }
  TS_STATUS_INFO* info = TS_RESP_get_status_info(resp.get());
  long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(info));
  if (status != 0 && status != 1) {  // granted, grantedWithMods
    return absl::FailedPreconditionError(
        absl::StrCat("the TSA refused the request (PKIStatus ", status, ")"));
  }
  PKCS7* token = TS_RESP_get_token(resp.get());
  if (token == nullptr) return absl::DataLossError("the TSA granted but sent no token");
  RETURN_IF_ERROR(MatchesQuery(token, req.get()));
  return Der<PKCS7, i2d_PKCS7>(token);
}

absl::StatusOr<TimestampFacts> ReadTimestampToken(absl::string_view token) {
  ASSIGN_OR_RETURN(Pkcs7Ptr p7, ParseToken(token));
  return Facts(p7.get());
}

absl::StatusOr<TimestampFacts> VerifyTimestampToken(absl::string_view token, const Digest& imprint,
                                                    absl::string_view tsa_cert_pem) {
  ASSIGN_OR_RETURN(Pkcs7Ptr p7, ParseToken(token));
  ASSIGN_OR_RETURN(std::vector<X509Ptr> trusted, ReadCerts(tsa_cert_pem));
  RETURN_IF_ERROR(EmbeddedCertsTrusted(p7.get(), trusted));
  RETURN_IF_ERROR(SignerInfoStrict(p7.get()));
  VerifyPtr ctx(TS_VERIFY_CTX_new());
  X509_STORE* store = X509_STORE_new();
  STACK_OF(X509)* certs = sk_X509_new_null();
  unsigned char* want = static_cast<unsigned char*>(OPENSSL_memdup(imprint.data(), Digest::kSize));
  if (!ctx || !store || !certs || !want) {
    X509_STORE_free(store);
    sk_X509_free(certs);
    OPENSSL_free(want);
    return absl::InternalError("out of memory verifying a time-stamp token");
  }
  for (const X509Ptr& cert : trusted) {
    X509_STORE_add_cert(store, cert.get());
    sk_X509_push(certs, X509_dup(cert.get()));
  }
  X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);  // the TSA cert is the anchor
  TS_VERIFY_CTX_set_flags(ctx.get(), TS_VFY_VERSION | TS_VFY_SIGNATURE | TS_VFY_IMPRINT);
  TS_VERIFY_CTX_set_imprint(ctx.get(), want, Digest::kSize);  // each takes ownership
  TS_VERIFY_CTX_set_store(ctx.get(), store);
  TS_VERIFY_CTS_set_certs(ctx.get(), certs);
  if (TS_RESP_verify_token(ctx.get(), p7.get()) != 1) {
    return absl::DataLossError("the time-stamp token does not verify: " + OpensslError());
  }
  return Facts(p7.get());
}

}  // namespace custody
