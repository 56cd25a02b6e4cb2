#pragma once

#include <string>
#include <string_view>

namespace ng::probes::logs {

// kubelet quotes text that pods control: a container's command (`exec: "…": executable file
// not found`), probe output (`output="…"`), mount paths, whole container specs
// (`&Container{…}`). A rule that sets a node condition must not fire on such text, so it is
// matched against the line with that text masked (the quoted bytes removed, quotes kept):
// - a structured klog line (`] "Message" key="value" …`): the message stays; `err=` / `error=`
//   values stay, with strings quoted inside them (`\"…\"`) masked; other quoted values are
//   masked whole;
// - any other line: every quoted string is masked whole, kubelet's unquoted words stay;
// - `&Container{…}` is masked (brace-balanced) anywhere.
// Returns `line` itself when there is nothing to mask, else a view of `out`. A pure function:
// any bytes in, never reads past the line (unterminated quotes mask to the end).
std::string_view mask_quoted(std::string_view line, std::string& out);

}  // namespace ng::probes::logs
