#include "tests/local_tsa.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ts.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <mutex>

namespace custody::testing {

struct LocalTsa::Keys {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  TS_RESP_CTX* ctx = nullptr;
  std::mutex mu;  // over ctx and serial
  long serial = 0;
  ~Keys() {
    TS_RESP_CTX_free(ctx);
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

namespace {

ASN1_INTEGER* NextSerial(TS_RESP_CTX*, void* data) {
  ASN1_INTEGER* v = ASN1_INTEGER_new();
  ASN1_INTEGER_set(v, ++*static_cast<long*>(data));
  return v;
}

X509* SelfSignedTsaCert(EVP_PKEY* key, const std::string& name) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
  X509_set_pubkey(x, key);
  X509_NAME* n = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, n);
  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, x, x, nullptr, nullptr, 0);
  for (auto [nid, value] : {std::pair{NID_ext_key_usage, "critical,timeStamping"},
                            std::pair{NID_key_usage, "critical,digitalSignature"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(x, key, EVP_sha256());
  return x;
}

}  // namespace

LocalTsa::LocalTsa(const std::string& name) : keys_(std::make_unique<Keys>()) {
  keys_->key = EVP_EC_gen("P-256");
  keys_->cert = SelfSignedTsaCert(keys_->key, name);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, keys_->cert);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  cert_pem_.assign(data, static_cast<size_t>(len));
  BIO_free(bio);
  TS_RESP_CTX* ctx = TS_RESP_CTX_new();
  TS_RESP_CTX_set_signer_cert(ctx, keys_->cert);
  TS_RESP_CTX_set_signer_key(ctx, keys_->key);
  ASN1_OBJECT* policy = OBJ_txt2obj("1.3.6.1.4.1.4146.2.3", 1);
  TS_RESP_CTX_set_def_policy(ctx, policy);
  ASN1_OBJECT_free(policy);
  TS_RESP_CTX_add_md(ctx, EVP_sha256());
  TS_RESP_CTX_set_signer_digest(ctx, EVP_sha256());
  TS_RESP_CTX_set_ess_cert_id_digest(ctx, EVP_sha256());
  TS_RESP_CTX_set_serial_cb(ctx, NextSerial, &keys_->serial);
  keys_->ctx = ctx;
}

LocalTsa::~LocalTsa() { Stop(); }

std::string LocalTsa::Reply(const std::string& query) {
  std::lock_guard<std::mutex> lock(keys_->mu);
  BIO* in = BIO_new_mem_buf(query.data(), static_cast<int>(query.size()));
  TS_RESP* resp = TS_RESP_create_response(keys_->ctx, in);
  BIO_free(in);
  if (resp == nullptr) return "";
  int n = i2d_TS_RESP(resp, nullptr);
  std::string out(static_cast<size_t>(n > 0 ? n : 0), '\0');
  unsigned char* p = reinterpret_cast<unsigned char*>(out.data());
  if (n > 0) i2d_TS_RESP(resp, &p);
  TS_RESP_free(resp);
  return out;
}

bool LocalTsa::Serve() {
  Stop();
  server_ = std::make_unique<httplib::Server>();
  server_->Post("/", [this](const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    res.set_content(Reply(req.body), "application/timestamp-reply");
  });
  if (port_ == 0) {
    port_ = server_->bind_to_any_port("127.0.0.1");
  } else if (!server_->bind_to_port("127.0.0.1", port_)) {
    return false;
  }
  if (port_ <= 0) return false;
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return true;
}

void LocalTsa::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
  server_.reset();
}

std::string LocalTsa::url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

}  // namespace custody::testing
