#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/files.h"
#include "core/result.h"

namespace ng::agent::kube {

// Where the API server is and how to prove who we are: from the pod's service account
// (in-cluster) or a kubeconfig's current context. PEM material is held as text.
struct KubeConnection {
  std::string host;  // without brackets
  std::string port = "443";
  std::string ca_pem;           // empty: the system's trust store
  std::string token;            // a fixed bearer token (kubeconfig `token`)
  std::string token_file;       // re-read when it changes (projected tokens rotate)
  std::string client_cert_pem;  // client certificate authentication
  std::string client_key_pem;
  bool insecure_skip_verify = false;  // refused: we never talk to an unverified server
  std::string source;                 // "in-cluster" or the kubeconfig path, for logs
};

using Getenv = std::function<std::optional<std::string>(const std::string&)>;

// The in-cluster config as client-go reads it: KUBERNETES_SERVICE_HOST/PORT, the token and
// CA under /var/run/secrets/kubernetes.io/serviceaccount (`sa_dir` for tests).
core::Result<KubeConnection> in_cluster_connection(
    const Getenv& env, core::Files& files,
    const std::string& sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// A kubeconfig (YAML): the current context's cluster and user. Relative file paths are
// relative to the kubeconfig's directory. Errors name the field.
core::Result<KubeConnection> parse_kubeconfig(const std::string& text, const std::string& path,
                                              core::Files& files);

// "https://host:port[/]" -> host, port; nullopt unless https.
std::optional<std::pair<std::string, std::string>> parse_server_url(const std::string& url);

// Which connection `enabled`/`kubeconfig` select: kubeconfig flag, else in-cluster, else
// $KUBECONFIG. nullopt (no error) when nothing is configured and enabled is auto.
struct Selected {
  std::optional<KubeConnection> connection;
  std::optional<core::EnvError> error;
};
Selected select_connection(const std::string& enabled, const std::string& kubeconfig,
                           const Getenv& env, core::Files& files);

// Decodes standard base64 (kubeconfig *-data fields); nullopt on bad input.
std::optional<std::string> base64_decode(const std::string& in);

}  // namespace ng::agent::kube
