#include "agent/api/tls_files.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "core/files.h"

namespace ng::agent {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

std::string openssl_reason() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "no PEM data found";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

core::EnvError bad_file(const std::string& path, const std::string& what) {
  return core::EnvError{core::EnvErrorKind::kInvalidInput, path + ": " + what};
}

core::Result<std::unique_ptr<BIO, BioFree>> open_pem(const std::string& path) {
  core::PosixFiles files;
  auto text = files.read(path);
  if (!text) return text.error();
  // BIO_new_mem_buf does not copy: keep the text alive by copying it into a memory BIO.
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || BIO_write(bio.get(), text->data(), static_cast<int>(text->size())) !=
                  static_cast<int>(text->size())) {
    return bad_file(path, "out of memory reading PEM");
  }
  return bio;
}

core::WallTime to_wall(const ASN1_TIME* t) {
  struct tm tm {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

core::Result<CertificateFacts> inspect_key_pair(const std::string& cert_path,
                                                const std::string& key_path) {
  auto cert_bio = open_pem(cert_path);
  if (!cert_bio) return cert_bio.error();
  ERR_clear_error();
  std::unique_ptr<X509, X509Free> cert(
      PEM_read_bio_X509(cert_bio->get(), nullptr, nullptr, nullptr));
  if (!cert) return bad_file(cert_path, "not a PEM certificate (" + openssl_reason() + ")");
  auto key_bio = open_pem(key_path);
  if (!key_bio) return key_bio.error();
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio->get(), nullptr, nullptr, nullptr));
  if (!key) {
    return bad_file(key_path, "not an unencrypted PEM private key (" + openssl_reason() + ")");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return bad_file(key_path, "private key does not match the certificate in " + cert_path);
  }
  CertificateFacts facts;
  char subject[512] = {};
  X509_NAME_oneline(X509_get_subject_name(cert.get()), subject, sizeof subject - 1);
  facts.subject = subject;
  facts.not_after = to_wall(X509_get0_notAfter(cert.get()));
  return facts;
}

core::Result<int> inspect_ca_bundle(const std::string& ca_path) {
  auto bio = open_pem(ca_path);
  if (!bio) return bio.error();
  int count = 0;
  ERR_clear_error();
  for (;;) {
    std::unique_ptr<X509, X509Free> cert(PEM_read_bio_X509(bio->get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    ++count;
  }
  ERR_clear_error();  // the read past the last certificate
  if (count == 0) return bad_file(ca_path, "no PEM certificate in the CA bundle");
  return count;
}

}  // namespace ng::agent
