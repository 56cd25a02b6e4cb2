#pragma once

#include <string>

#include "core/clock.h"
#include "core/result.h"

namespace ng::agent {

// What the agent checks in its TLS files before serving them, and reports as metrics.
struct CertificateFacts {
  std::string subject;
  core::WallTime not_after{};
};

// The certificate chain and key parse as PEM and the key belongs to the first certificate.
// Errors name the file and the reason (OpenSSL's words).
core::Result<CertificateFacts> inspect_key_pair(const std::string& cert_path,
                                                const std::string& key_path);

// The file holds at least one PEM certificate; returns how many.
core::Result<int> inspect_ca_bundle(const std::string& ca_path);

}  // namespace ng::agent
