#include "agent/kube/kube_connection.h"

#include <yaml-cpp/yaml.h>

namespace ng::agent::kube {

namespace {

core::EnvError invalid(std::string msg) {
  return core::EnvError{core::EnvErrorKind::kInvalidInput, std::move(msg)};
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::string resolve(const std::string& file, const std::string& base) {
  return file.empty() || file[0] == '/' ? file : base + "/" + file;
}

// `<key>-data` (base64) or `<key>` (a file): the PEM text, or an error naming the field.
core::Result<std::string> pem_field(const YAML::Node& n, const std::string& key,
                                    const std::string& base, core::Files& files,
                                    const std::string& where) {
  if (auto d = n[key + "-data"]; d && d.IsScalar()) {
    auto pem = base64_decode(d.as<std::string>());
    if (!pem) return invalid(where + "." + key + "-data: not valid base64");
    return *pem;
  }
  if (auto f = n[key]; f && f.IsScalar()) {
    auto text = files.read(resolve(f.as<std::string>(), base));
    if (!text)
      return core::EnvError{text.error().kind, where + "." + key + ": " + text.error().message};
    return text.value();
  }
  return std::string{};
}

// The entry of `list` (clusters, users, contexts) named `name`, its inner map under `inner`.
YAML::Node named(const YAML::Node& list, const std::string& name, const std::string& inner) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& e : list) {
    if (e["name"] && e["name"].as<std::string>() == name) return e[inner];
  }
  return YAML::Node();
}

}  // namespace

std::optional<std::pair<std::string, std::string>> parse_server_url(const std::string& url) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0) return std::nullopt;
  std::string rest = url.substr(scheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  if (rest.empty()) return std::nullopt;
  std::string host = rest, port = "443";
  if (rest[0] == '[') {
    auto close = rest.find(']');
    if (close == std::string::npos) return std::nullopt;
    host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return std::nullopt;
      port = rest.substr(close + 2);
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host.empty() || port.empty() || port.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::make_pair(host, port);
}

core::Result<KubeConnection> in_cluster_connection(const Getenv& env, core::Files& files,
                                                   const std::string& sa_dir) {
  auto host = env("KUBERNETES_SERVICE_HOST");
  auto port = env("KUBERNETES_SERVICE_PORT");
  if (!host || host->empty() || !port || port->empty()) {
    return core::EnvError{core::EnvErrorKind::kNotFound,
                          "KUBERNETES_SERVICE_HOST/PORT are not set (not in a pod)"};
  }
  KubeConnection c;
  c.host = *host;
  c.port = *port;
  c.token_file = sa_dir + "/token";
  c.source = "in-cluster";
  if (!files.exists(c.token_file)) {
    return core::EnvError{core::EnvErrorKind::kNotFound,
                          c.token_file + " is missing (automountServiceAccountToken off?)"};
  }
  auto ca = files.read(sa_dir + "/ca.crt");
  if (!ca) return core::EnvError{ca.error().kind, sa_dir + "/ca.crt: " + ca.error().message};
  c.ca_pem = ca.value();
  return c;
}

core::Result<KubeConnection> parse_kubeconfig(const std::string& text, const std::string& path,
                                              core::Files& files) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return invalid(path + ": not YAML: " + e.what());
  }
  try {
    if (!root.IsMap()) return invalid(path + ": not a kubeconfig (no mapping)");
    std::string ctx_name = root["current-context"] ? root["current-context"].as<std::string>() : "";
    YAML::Node ctx = named(root["contexts"], ctx_name, "context");
    if (!ctx || !ctx.IsMap())
      return invalid(path + ": current-context \"" + ctx_name + "\" not found in contexts");
    std::string cluster_name = ctx["cluster"] ? ctx["cluster"].as<std::string>() : "";
    std::string user_name = ctx["user"] ? ctx["user"].as<std::string>() : "";
    YAML::Node cluster = named(root["clusters"], cluster_name, "cluster");
    if (!cluster || !cluster.IsMap())
      return invalid(path + ": cluster \"" + cluster_name + "\" not found");
    KubeConnection c;
    c.source = path;
    const std::string base = dir_of(path);
    std::string server = cluster["server"] ? cluster["server"].as<std::string>() : "";
    auto hp = parse_server_url(server);
    if (!hp)
      return invalid(path + ": clusters[" + cluster_name +
                     "].server must be https://HOST[:PORT]; got \"" + server + "\"");
    c.host = hp->first;
    c.port = hp->second;
    if (cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>()) {
      return invalid(path +
                     ": insecure-skip-tls-verify is refused: the API server must be verified");
    }
    auto ca = pem_field(cluster, "certificate-authority", base, files, "cluster");
    if (!ca) return ca.error();
    c.ca_pem = ca.value();
    YAML::Node user = named(root["users"], user_name, "user");
    if (user && user.IsMap()) {
      if (user["token"]) c.token = user["token"].as<std::string>();
      if (user["tokenFile"]) c.token_file = resolve(user["tokenFile"].as<std::string>(), base);
      auto cert = pem_field(user, "client-certificate", base, files, "user");
      if (!cert) return cert.error();
      auto key = pem_field(user, "client-key", base, files, "user");
      if (!key) return key.error();
      c.client_cert_pem = cert.value();
      c.client_key_pem = key.value();
      if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
        return invalid(path + ": user \"" + user_name +
                       "\" needs both client-certificate and client-key");
      }
    }
    return c;
  } catch (const YAML::Exception& e) {
    return invalid(path + ": malformed kubeconfig: " + e.what());
  }
}

Selected select_connection(const std::string& enabled, const std::string& kubeconfig,
                           const Getenv& env, core::Files& files) {
  Selected out;
  if (enabled == "false") return out;
  auto from_file = [&](const std::string& p) {
    auto text = files.read(p);
    if (!text) {
      out.error = core::EnvError{text.error().kind, p + ": " + text.error().message};
      return;
    }
    auto c = parse_kubeconfig(text.value(), p, files);
    if (c)
      out.connection = c.value();
    else
      out.error = c.error();
  };
  if (!kubeconfig.empty()) {
    from_file(kubeconfig);
    return out;
  }
  auto ic = in_cluster_connection(env, files);
  if (ic) {
    out.connection = ic.value();
    return out;
  }
  if (auto kc = env("KUBECONFIG"); kc && !kc->empty() && files.exists(*kc)) {
    from_file(*kc);
    return out;
  }
  if (enabled == "true") out.error = ic.error();
  return out;
}

std::optional<std::string> base64_decode(const std::string& in) {
  auto val = [](char ch) -> int {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (char ch : in) {
    if (ch == '=') break;
    if (ch == '\n' || ch == '\r' || ch == ' ') continue;
    int v = val(ch);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

}  // namespace ng::agent::kube
