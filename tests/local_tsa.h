// A time-stamping authority for tests (RFC 3161 over HTTP on 127.0.0.1),
// built on OpenSSL's TS_RESP_CTX: a fresh EC P-256 key and a self-signed
// certificate with the critical timeStamping key usage a TSA needs.
#ifndef CUSTODY_TESTS_LOCAL_TSA_H_
#define CUSTODY_TESTS_LOCAL_TSA_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace custody::testing {

// Thread-safe.
class LocalTsa {
 public:
  explicit LocalTsa(const std::string& name = "custody test TSA");
  ~LocalTsa();

  // Serves on 127.0.0.1 (a free port the first time, the same port again
  // after Stop); false if it cannot.
  bool Serve();
  // Stops serving: the TSA is down.
  void Stop();
  std::string url() const;
  const std::string& cert_pem() const { return cert_pem_; }
  // The DER TimeStampResp to the DER TimeStampReq `query`.
  std::string Reply(const std::string& query);
  int requests() const { return requests_.load(); }

 private:
  struct Keys;
  std::unique_ptr<Keys> keys_;
  std::string cert_pem_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::atomic<int> requests_{0};
};

}  // namespace custody::testing

#endif  // CUSTODY_TESTS_LOCAL_TSA_H_
