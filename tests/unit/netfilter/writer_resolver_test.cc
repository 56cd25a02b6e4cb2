#include "netfilter/writer_resolver.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_files.h"

namespace ng::netfilter {
namespace {

const std::string kId = "4f1d2e3c5b6a79880123456789abcdef0123456789abcdef0123456789abcdef";

TEST(ParseCgroupOwner, V2SystemService) {
  auto o = parse_cgroup_owner("0::/system.slice/nftables.service\n");
  EXPECT_EQ(o.unit, "nftables.service");
  EXPECT_EQ(o.container, "");
}

TEST(ParseCgroupOwner, V2KubepodsContainerd) {
  auto o = parse_cgroup_owner(
      "0::/kubepods.slice/kubepods-burstable.slice/"
      "kubepods-burstable-pod1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901.slice/cri-containerd-" +
      kId + ".scope\n");
  EXPECT_EQ(o.container, kId);
  EXPECT_EQ(o.runtime, "cri-containerd");
  EXPECT_EQ(o.unit, "");  // the container's own scope is not reported as a unit
  EXPECT_EQ(short_container_id(o.container), "4f1d2e3c5b6a");
}

TEST(ParseCgroupOwner, V2BestEffortCrio) {
  auto o = parse_cgroup_owner(
      "0::/kubepods.slice/kubepods-besteffort.slice/"
      "kubepods-besteffort-podabc.slice/crio-" +
      kId + ".scope");
  EXPECT_EQ(o.container, kId);
  EXPECT_EQ(o.runtime, "crio");
}

TEST(ParseCgroupOwner, CrioConmonIsNotTheContainer) {
  auto o =
      parse_cgroup_owner("0::/kubepods.slice/kubepods-pod1.slice/crio-conmon-" + kId + ".scope\n");
  EXPECT_EQ(o.container, "");
  EXPECT_EQ(o.unit, "crio-conmon-" + kId + ".scope");
}

TEST(ParseCgroupOwner, DockerAndLibpodScopes) {
  EXPECT_EQ(parse_cgroup_owner("0::/system.slice/docker-" + kId + ".scope").container, kId);
  EXPECT_EQ(parse_cgroup_owner("0::/system.slice/docker-" + kId + ".scope").runtime, "docker");
  auto p = parse_cgroup_owner("0::/machine.slice/libpod-" + kId + ".scope/container\n");
  EXPECT_EQ(p.container, kId);
  EXPECT_EQ(p.runtime, "libpod");
  // Rootless podman: the user's manager is the unit.
  auto r = parse_cgroup_owner(
      "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope\n");
  EXPECT_EQ(r.container, kId);
  EXPECT_EQ(r.unit, "user@1000.service");
}

TEST(ParseCgroupOwner, UserSessions) {
  EXPECT_EQ(parse_cgroup_owner("0::/user.slice/user-0.slice/session-3.scope\n").unit,
            "session-3.scope");
  EXPECT_EQ(parse_cgroup_owner("0::/user.slice/user-0.slice/user@0.service/init.scope\n").unit,
            "init.scope");
  EXPECT_EQ(
      parse_cgroup_owner("0::/user.slice/user-0.slice/user@0.service/app.slice/foo.service").unit,
      "foo.service");
  EXPECT_EQ(parse_cgroup_owner("0::/init.scope\n").unit, "init.scope");
}

TEST(ParseCgroupOwner, V1MultiLinePrefersNameSystemd) {
  const std::string text =
      "12:pids:/system.slice/firewalld.service\n"
      "11:cpu,cpuacct:/system.slice/firewalld.service\n"
      "5:memory:/system.slice/firewalld.service\n"
      "1:name=systemd:/system.slice/firewalld.service\n"
      "0::/system.slice/firewalld.service\n";
  EXPECT_EQ(parse_cgroup_owner(text).unit, "firewalld.service");
  // Hybrid layout with an empty v2 hierarchy: the v1 name=systemd line decides.
  const std::string hybrid =
      "10:devices:/system.slice/kubelet.service\n"
      "1:name=systemd:/system.slice/kubelet.service\n"
      "0::/\n";
  EXPECT_EQ(parse_cgroup_owner(hybrid).unit, "kubelet.service");
  const std::string v1_only = "4:cpu:/system.slice/nftables.service\n";
  EXPECT_EQ(parse_cgroup_owner(v1_only).unit, "nftables.service");
}

TEST(ParseCgroupOwner, V1ContainerdSystemdDriverColonForm) {
  auto o = parse_cgroup_owner(
      "11:memory:/system.slice/containerd.service/"
      "kubepods-burstable-pod1b2c.slice:cri-containerd:" +
      kId +
      "\n1:name=systemd:/system.slice/containerd.service/kubepods-burstable-pod1b2c.slice:cri-"
      "containerd:" +
      kId + "\n");
  EXPECT_EQ(o.container, kId);
  EXPECT_EQ(o.runtime, "cri-containerd");
  EXPECT_EQ(o.unit, "containerd.service");
}

TEST(ParseCgroupOwner, CgroupfsDriver) {
  auto k = parse_cgroup_owner("0::/kubepods/burstable/pod1b2c3d4e-5f60/" + kId + "\n");
  EXPECT_EQ(k.container, kId);
  EXPECT_EQ(k.runtime, "");
  auto d = parse_cgroup_owner("9:pids:/docker/" + kId + "\n");
  EXPECT_EQ(d.container, kId);
  EXPECT_EQ(d.runtime, "docker");
  // A short hex name without a scope is not taken for a container id.
  EXPECT_EQ(parse_cgroup_owner("0::/kubepods/burstable/pod1/abcdef012345\n").container, "");
}

TEST(ParseCgroupOwner, NothingToSay) {
  EXPECT_EQ(parse_cgroup_owner("").unit, "");
  EXPECT_EQ(parse_cgroup_owner("0::/\n").unit, "");
  EXPECT_EQ(parse_cgroup_owner("garbage").unit, "");
  EXPECT_EQ(parse_cgroup_owner("0::relative/x.service").unit, "");
  EXPECT_EQ(parse_cgroup_owner("0::/kubepods.slice/kubepods-burstable.slice").unit, "");
  // Characters systemd does not allow in a unit name.
  EXPECT_EQ(parse_cgroup_owner("0::/system.slice/bad name.service").unit, "");
  EXPECT_EQ(parse_cgroup_owner("0::/system.slice/.service").unit, "");
  // Windows line ends, trailing slash.
  EXPECT_EQ(parse_cgroup_owner("0::/system.slice/a.service\r\n").unit, "a.service");
  EXPECT_EQ(parse_cgroup_owner("0::/system.slice/a.service/").unit, "a.service");
}

TEST(ParseCgroupOwner, Bounded) {
  std::string huge = "0::/";
  for (int i = 0; i < 10000; ++i) huge += "a/";
  huge += "x.service\n";
  EXPECT_EQ(parse_cgroup_owner(huge).unit, "");  // past the path bound: not looked at
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "3:cpu:/\n";
  many += "0::/system.slice/late.service\n";
  EXPECT_EQ(parse_cgroup_owner(many).unit, "");  // past the line bound
}

TEST(CgroupWriterResolver, FillsUnitAndContainerFromProc) {
  testing::FakeFiles files;
  files.contents()["/host/proc/4242/cgroup"] = "0::/system.slice/nftables.service\n";
  files.contents()["/host/proc/77/cgroup"] =
      "0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + kId + ".scope\n";
  CgroupWriterResolver r(files, "/host/proc/");
  ChangeWriter w{7, 4242, "nft", "", ""};
  r(w);
  EXPECT_EQ(w.unit, "nftables.service");
  EXPECT_EQ(w.comm, "nft");
  ChangeWriter c{8, 77, "iptables-nft-re", "", ""};
  r(c);
  EXPECT_EQ(c.container, kId);
  ChangeWriter gone{9, 5, "nft", "", ""};
  r(gone);  // exited already: pid and comm stay, nothing else
  EXPECT_EQ(gone.unit, "");
  EXPECT_EQ(gone.pid, 5u);
  ChangeWriter none{10, 0, "", "", ""};
  r(none);
  EXPECT_EQ(r.resolved(), 2u);
  EXPECT_EQ(r.gone(), 1u);
}

TEST(CgroupWriterResolver, ReadsAtMostTheLimit) {
  testing::FakeFiles files;
  files.contents()["/proc/1/cgroup"] =
      std::string(CgroupWriterResolver::kReadLimit, '\n') + "0::/system.slice/after.service\n";
  CgroupWriterResolver r(files, "/proc");
  ChangeWriter w{1, 1, "x", "", ""};
  r(w);
  EXPECT_EQ(w.unit, "");
}

TEST(PosixFiles, ReadPrefixOfProc) {
  core::PosixFiles files;
  auto all = files.read("/proc/self/cgroup");
  ASSERT_TRUE(all);
  auto head = files.read_prefix("/proc/self/cgroup", 3);
  ASSERT_TRUE(head);
  EXPECT_EQ(*head, all->substr(0, 3));
  EXPECT_FALSE(files.read_prefix("/proc/self/no-such-file", 10));
}

}  // namespace
}  // namespace ng::netfilter
