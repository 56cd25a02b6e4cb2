#include "probes/logs/rules.h"

#include <gtest/gtest.h>

#include <random>

#include "probes/logs/logs_component.h"
#include "probes/logs/matcher.h"
#include "probes/logs/quote_mask.h"
#include "tests/fakes/fake_files.h"

namespace ng::probes::logs {
namespace {

constexpr const char* kNpdKernelMonitor = R"({
  "plugin": "kmsg",
  "logPath": "/dev/kmsg",
  "lookback": "5m",
  "bufferSize": 10,
  "source": "kernel-monitor",
  "conditions": [
    {"type": "KernelDeadlock", "reason": "KernelHasNoDeadlock", "message": "kernel has no deadlock"}
  ],
  "rules": [
    {"type": "temporary", "reason": "OOMKilling",
     "pattern": "Killed process \\d+ (.+) total-vm:\\d+kB, anon-rss:\\d+kB, file-rss:\\d+kB.*"},
    {"type": "permanent", "condition": "KernelDeadlock", "reason": "DockerHung",
     "pattern": "task docker:\\w+ blocked for more than \\w+ seconds\\."}
  ]
})";

TEST(RulesTest, LoadsNodeProblemDetectorFile) {
  RuleSet set;
  parse_rule_file(kNpdKernelMonitor, "kernel-monitor.json", set);
  EXPECT_TRUE(set.errors.empty()) << set.errors.front();
  ASSERT_EQ(set.rules.size(), 2u);
  EXPECT_EQ(set.rules[0].type, RuleType::kTemporary);
  EXPECT_EQ(set.rules[0].reason, "OOMKilling");
  EXPECT_EQ(set.rules[1].type, RuleType::kPermanent);
  EXPECT_EQ(set.rules[1].condition, "KernelDeadlock");
  EXPECT_EQ(set.rules[1].monitor, "kernel-monitor");
  ASSERT_EQ(set.conditions.size(), 1u);
  EXPECT_EQ(set.conditions[0].reason, "KernelHasNoDeadlock");
  // kmsg is not read: said once, rules still apply everywhere.
  ASSERT_EQ(set.warnings.size(), 1u);
  EXPECT_NE(set.warnings[0].find("kmsg"), std::string::npos);
  EXPECT_EQ(set.rules[0].sources, kAllSources);

  std::vector<std::string> errors;
  auto m = RuleMatcher::compile(set.rules, &errors);
  EXPECT_TRUE(errors.empty());
  auto hits = m.scan(SourceKind::kFile,
                     "Killed process 1234 (java) total-vm:100kB, anon-rss:10kB, file-rss:0kB");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0], 0u);
  EXPECT_TRUE(m.scan(SourceKind::kFile, "nothing here").empty());
}

TEST(RulesTest, UnknownFieldsAreReportedNotFatal) {
  RuleSet set;
  parse_rule_file(R"({"source":"x","colour":"red","rules":[
      {"type":"temporary","reason":"A","pattern":"a+","patern":"typo"}]})",
                  "x.json", set);
  EXPECT_TRUE(set.errors.empty());
  ASSERT_EQ(set.rules.size(), 1u);
  ASSERT_EQ(set.warnings.size(), 2u);
  EXPECT_NE(set.warnings[0].find("\"colour\""), std::string::npos);
  EXPECT_NE(set.warnings[1].find("x.json rule 1 (A)"), std::string::npos);
  EXPECT_NE(set.warnings[1].find("\"patern\""), std::string::npos);
}

TEST(RulesTest, BadRulesAreRejectedAloneWithTheirName) {
  RuleSet set;
  parse_rule_file(R"({"conditions":[{"type":"C","reason":"Fine"}],"rules":[
      {"type":"sometimes","reason":"BadType","pattern":"x"},
      {"type":"permanent","reason":"NoCondition","pattern":"x"},
      {"type":"permanent","condition":"Undeclared","reason":"Undeclared","pattern":"x"},
      {"type":"temporary","pattern":"x"},
      {"type":"temporary","reason":"NoPattern"},
      {"type":"permanent","condition":"C","reason":"Good","pattern":"good"}]})",
                  "bad.json", set);
  ASSERT_EQ(set.rules.size(), 1u);
  EXPECT_EQ(set.rules[0].reason, "Good");
  ASSERT_EQ(set.errors.size(), 5u);
  EXPECT_NE(set.errors[0].find("bad.json rule 1 (BadType)"), std::string::npos);
  EXPECT_NE(set.errors[1].find("needs \"condition\""), std::string::npos);
  EXPECT_NE(set.errors[2].find("not declared"), std::string::npos);
  EXPECT_NE(set.errors[3].find("\"reason\""), std::string::npos);
  EXPECT_NE(set.errors[4].find("\"pattern\""), std::string::npos);
}

TEST(RulesTest, NotJsonIsRejectedWhole) {
  RuleSet set;
  parse_rule_file("{ nope", "broken.json", set);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_NE(set.errors[0].find("broken.json: not valid JSON"), std::string::npos);
  EXPECT_TRUE(set.rules.empty());
}

// A number too large for a double throws out_of_range from the JSON parser, not parse_error.
TEST(RulesTest, NumberTooLargeIsRejectedNotACrash) {
  RuleSet set;
  parse_rule_file(R"({"source": "x", "rules": [], "n": 1e999999})", "huge.json", set);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_NE(set.errors[0].find("huge.json: not valid JSON"), std::string::npos);
}

TEST(RulesTest, InvalidRegexNamesTheRuleAndOthersStillMatch) {
  RuleSet set;
  parse_rule_file(R"({"rules":[
      {"type":"temporary","reason":"BackRef","pattern":"(a)\\1"},
      {"type":"temporary","reason":"Unbalanced","pattern":"(abc"},
      {"type":"temporary","reason":"Empty","pattern":"x*"},
      {"type":"temporary","reason":"Ok","pattern":"fine [0-9]+"}]})",
                  "re.json", set);
  ASSERT_TRUE(set.errors.empty());
  std::vector<std::string> errors;
  auto m = RuleMatcher::compile(set.rules, &errors);
  ASSERT_EQ(errors.size(), 3u);
  EXPECT_NE(errors[0].find("re.json rule 1 (BackRef)"), std::string::npos);
  EXPECT_NE(errors[0].find("does not compile"), std::string::npos);
  EXPECT_NE(errors[1].find("(Unbalanced)"), std::string::npos);
  EXPECT_NE(errors[2].find("(Empty)"), std::string::npos);
  EXPECT_EQ(m.rules_loaded(), 1u);
  auto hits = m.scan(SourceKind::kContainer, "all fine 42");
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0], 3u);
}

TEST(RulesTest, AppliesToLimitsSources) {
  RuleSet set;
  parse_rule_file(R"({"appliesTo":["kubelet"],"rules":[
      {"type":"temporary","reason":"K","pattern":"boom"}]})",
                  "k.json", set);
  parse_rule_file(R"({"plugin":"journald","pluginConfig":{"source":"kubelet"},"rules":[
      {"type":"temporary","reason":"J","pattern":"bang"}]})",
                  "j.json", set);
  std::vector<std::string> errors;
  auto m = RuleMatcher::compile(set.rules, &errors);
  EXPECT_EQ(m.scan(SourceKind::kKubelet, "boom bang").size(), 2u);
  EXPECT_TRUE(m.scan(SourceKind::kContainer, "boom bang").empty());
  RuleSet bad;
  parse_rule_file(R"({"appliesTo":["pods"],"rules":[]})", "b.json", bad);
  ASSERT_EQ(bad.errors.size(), 1u);
}

TEST(RulesTest, OneScanReportsEveryMatchingRuleOnce) {
  RuleSet set;
  parse_rule_file(R"({"rules":[
      {"type":"temporary","reason":"A","pattern":"err.*"},
      {"type":"temporary","reason":"B","pattern":"disk"},
      {"type":"temporary","reason":"C","pattern":"never"}]})",
                  "m.json", set);
  std::vector<std::string> errors;
  auto m = RuleMatcher::compile(set.rules, &errors);
  auto hits = m.scan(SourceKind::kFile, "error error disk disk error");
  EXPECT_EQ(hits, (std::vector<unsigned>{0, 1}));
}

TEST(RulesTest, BuiltinRulesAllCompileAndCoverTheIssueList) {
  testing::FakeFiles files;
  auto loaded = load_rules({}, files);
  EXPECT_TRUE(loaded.set.errors.empty()) << loaded.set.errors.front();
  EXPECT_TRUE(loaded.set.warnings.empty()) << loaded.set.warnings.front();
  auto& m = loaded.matcher;
  EXPECT_EQ(m.rules_loaded(), loaded.set.rules.size());
  auto reasons = [&](SourceKind k, std::string_view line) {
    std::vector<std::string> out;
    for (unsigned id : m.scan(k, line)) out.push_back(loaded.set.rules[id].reason);
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(
      reasons(
          SourceKind::kKubelet,
          R"(E0501 12:00:00.1 123 kubelet.go:2331] "Skipping pod synchronization" err="PLEG is not healthy: pleg was last seen active 3m0.5s ago; threshold is 3m0s")"),
      V{"PLEGIsNotHealthy"});
  EXPECT_EQ(
      reasons(
          SourceKind::kKubelet,
          R"(E0501 kuberuntime_sandbox.go:72] "Failed to create sandbox for pod" err="rpc error: code = Unknown desc = failed to setup network for sandbox \"abc\": plugin type=\"calico\" failed (add): error")"),
      (V{"CNISandboxSetupFailed", "CNIPluginFailed"}));
  EXPECT_EQ(
      reasons(
          SourceKind::kKubelet,
          R"(failed to set up sandbox container "x" network for pod "y": networkPlugin cni failed to set up pod: failed to allocate for range 0: no IP addresses available in range set)"),
      (V{"CNISandboxSetupFailed", "CNIIPAllocationFailed", "CNIPluginFailed"}));
  EXPECT_EQ(
      reasons(
          SourceKind::kKubelet,
          R"(err="plugin type=\"portmap\" failed (add): unable to create chain CNI-HOSTPORT-SETMARK")"),
      (V{"CNIPortmapFailed", "CNIPluginFailed"}));
  EXPECT_EQ(reasons(SourceKind::kKubelet, "write /var/lib/kubelet/x: no space left on device"),
            V{"NoSpaceLeftOnDevice"});
  EXPECT_EQ(reasons(SourceKind::kContainer, "write failed: No space left on device"),
            V{"ContainerNoSpaceLeftOnDevice"});
  EXPECT_EQ(
      reasons(
          SourceKind::kKubelet,
          R"(I0501 eviction_manager.go:366] "Eviction manager: attempting to reclaim" resourceName="memory")"),
      V{"EvictionPressure"});
  EXPECT_EQ(
      reasons(
          SourceKind::kKubelet,
          R"("Container runtime not ready" runtimeReady="RuntimeReady=false reason:DockerDaemonNotReady")"),
      V{"ContainerRuntimeNotReady"});
  EXPECT_EQ(
      reasons(
          SourceKind::kKubelet,
          R"("Container runtime network not ready" networkReady="NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized")"),
      V{"ContainerRuntimeNetworkNotReady"});
  EXPECT_EQ(
      reasons(SourceKind::kKubelet, "System OOM encountered, victim process: java, pid: 4242"),
      V{"OOMKilling"});
  EXPECT_EQ(
      reasons(SourceKind::kFile, "kernel: Memory cgroup out of memory: Killed process 4242 (java)"),
      V{"OOMKilling"});
  EXPECT_EQ(
      reasons(
          SourceKind::kKubelet,
          R"("Error syncing pod, skipping" err="failed to \"StartContainer\" for \"app\" with CrashLoopBackOff: \"back-off 5m0s restarting failed container=app pod=x\"")"),
      (V{"CrashLoopBackOff", "RepeatedCrashLoop"}));
  EXPECT_TRUE(reasons(SourceKind::kKubelet, "Successfully probed container").empty());
}

// Node conditions come from node sources: a permanent rule never applies to container lines,
// whatever the file says (NPD never read container logs either); temporary rules keep theirs.
TEST(RulesTest, PermanentRulesNeverApplyToContainerLines) {
  RuleSet set;
  parse_rule_file(R"({"conditions":[{"type":"DiskFull"}],"rules":[
      {"type":"permanent","condition":"DiskFull","reason":"Full","pattern":"no space left"},
      {"type":"temporary","reason":"Ev","pattern":"no space left"}]})",
                  "plain.json", set);
  EXPECT_EQ(set.rules[0].sources, kNodeSources);
  EXPECT_EQ(set.rules[1].sources, kAllSources);
  EXPECT_FALSE(set.rules[0].match_quoted);
  EXPECT_TRUE(set.rules[1].match_quoted);
  EXPECT_TRUE(set.warnings.empty());
  // Asking for containers explicitly is answered with a warning; containers only: rejected.
  parse_rule_file(R"({"appliesTo":["container","kubelet"],"conditions":[{"type":"X"}],"rules":[
      {"type":"permanent","condition":"X","reason":"R1","pattern":"boom"}]})",
                  "both.json", set);
  ASSERT_EQ(set.warnings.size(), 1u);
  EXPECT_NE(set.warnings[0].find("never applies to container lines"), std::string::npos);
  parse_rule_file(R"({"conditions":[{"type":"X"}],"rules":[
      {"type":"permanent","condition":"X","reason":"R2","appliesTo":["container"],
       "pattern":"boom"}]})",
                  "only.json", set);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_NE(set.errors[0].find("only.json rule 1 (R2)"), std::string::npos);
  std::vector<std::string> errors;
  auto m = RuleMatcher::compile(set.rules, &errors);
  EXPECT_EQ(m.scan(SourceKind::kContainer, "write: no space left on device"),
            (std::vector<unsigned>{1}));
  EXPECT_EQ(m.scan(SourceKind::kFile, "write: no space left on device"),
            (std::vector<unsigned>{0, 1}));
}

TEST(RulesTest, RuleLevelAppliesToAndMatchQuotedAreParsed) {
  RuleSet set;
  parse_rule_file(R"({"conditions":[{"type":"X"}],"rules":[
      {"type":"temporary","reason":"A","appliesTo":["file"],"pattern":"a+b"},
      {"type":"permanent","condition":"X","reason":"B","matchQuoted":true,"pattern":"c+d"},
      {"type":"temporary","reason":"C","matchQuoted":"yes","pattern":"e+f"}]})",
                  "r.json", set);
  ASSERT_EQ(set.rules.size(), 2u);
  EXPECT_EQ(set.rules[0].sources, source_bit(SourceKind::kFile));
  EXPECT_TRUE(set.rules[1].match_quoted);
  ASSERT_EQ(set.errors.size(), 1u);
  EXPECT_NE(set.errors[0].find("matchQuoted"), std::string::npos);
}

// The shipped DiskFull rule on kubelet lines: a pod's command quoted in kubelet's error (or a
// probe's output) does not set it; kubelet's own report of a full disk does.
TEST(RulesTest, PodQuotedTextInKubeletLinesDoesNotSetNodeConditions) {
  testing::FakeFiles files;
  auto loaded = load_rules({}, files);
  auto& m = loaded.matcher;
  auto reasons = [&](std::string_view line) {
    std::vector<std::string> out;
    for (unsigned id : m.scan(SourceKind::kKubelet, line)) {
      out.push_back(loaded.set.rules[id].reason);
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(
      reasons(
          R"(E1205 07:00:00.000000 1234 remote_runtime.go:343] "StartContainer from runtime service failed" err="rpc error: code = Unknown desc = failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"no space left on device\": executable file not found in $PATH: unknown" containerID="abc")"),
      V{});
  EXPECT_EQ(
      reasons(
          R"(I1205 07:00:00.000000 1234 prober.go:107] "Probe failed" probeType="Liveness" pod="default/web" containerName="app" probeResult="failure" output="write /data: no space left on device")"),
      V{});
  EXPECT_EQ(
      reasons(
          R"(E1205 07:00:00.000000 1234 kuberuntime_manager.go:1256] "Unhandled Error" err="container &Container{Name:app,Command:[sh -c echo no space left on device],} start failed")"),
      V{});
  EXPECT_EQ(
      reasons(
          R"(E1205 07:00:00.000000 1234 pod_workers.go:1298] Error syncing pod web: failed to "StartContainer" for "app" with RunContainerError: "exec: \"no space left on device\": executable file not found in $PATH")"),
      V{});
  // kubelet's own words: structured (the error value) and plain.
  EXPECT_EQ(
      reasons(
          R"(E1205 07:00:00.000000 1234 kubelet_pods.go:160] "Failed to write hosts file" err="write /var/lib/kubelet/pods/x/etc-hosts: no space left on device" pod="default/web")"),
      V{"NoSpaceLeftOnDevice"});
  EXPECT_EQ(reasons("E1205 07:00:00.000000 1234 kubelet.go:1400] mkdir /var/lib/kubelet/pods/x: "
                    "no space left on device"),
            V{"NoSpaceLeftOnDevice"});
  // Temporary rules (events carrying the pod) still see the whole line.
  EXPECT_EQ(
      reasons(
          R"("Error syncing pod, skipping" err="failed to \"StartContainer\" for \"app\" with CrashLoopBackOff: \"back-off 5m0s restarting failed container=app pod=x\"")"),
      (V{"CrashLoopBackOff", "RepeatedCrashLoop"}));
}

TEST(QuoteMaskTest, MasksWhatPodsControlAndKeepsKubeletsWords) {
  std::string buf;
  auto mask = [&](std::string_view s) { return std::string(mask_quoted(s, buf)); };
  EXPECT_EQ(mask("no quotes here"), "no quotes here");
  EXPECT_EQ(mask(R"(I1 x.go:1] "Msg here" k="v" n=3 err="a: \"cmd\": b")"),
            R"(I1 x.go:1] "Msg here" k="" n=3 err="a: \"\": b")");
  EXPECT_EQ(mask(R"(plain "quoted" words "more \" text" end)"), R"(plain "" words "" end)");
  EXPECT_EQ(mask(R"(x &Container{A:{B:c}} y)"), "x &Container{} y");
  // Deeper levels sit inside the masked one; unterminated quotes mask to the end.
  EXPECT_EQ(mask(R"("M" err="x \"y \\\"z\\\" w\" v")"), R"("M" err="x \"\" v")");
  EXPECT_EQ(mask(R"("M" err="x \"open" k=1)"), R"("M" err="x \"\"" k=1)");
  EXPECT_EQ(mask(R"(a "open)"), R"(a "")");
  // A message that is followed by a non-key is not structured: every quote is masked.
  EXPECT_EQ(mask(R"(E1 f.go:2] "cmd" is not found)"), R"(E1 f.go:2] "" is not found)");
  for (std::string s : {"\"", "\\\"", "&Container{", "\"a\" b=\"", "] \"", "E1] \"x\" k=\"\\"}) {
    mask(s);  // no crash, no read past the end (ASan)
  }
  // Random lines from the characters that matter: masking only removes bytes, adding at most
  // the closing quotes or brace of what it cut short (the fuzzer checks the same).
  std::mt19937 rng(17);
  const std::vector<std::string> parts = {"\"", "\\", "\\\"", "&Container{", "{",           "}",
                                          "a",  " ",  "err=", "k=",          "E1 f.go:2] ", "x"};
  for (int i = 0; i < 20000; ++i) {
    std::string line;
    for (int n = rng() % 24; n > 0; --n) line += parts[rng() % parts.size()];
    ASSERT_LE(mask(line).size(), line.size() + 4) << line;
  }
}

}  // namespace
}  // namespace ng::probes::logs
