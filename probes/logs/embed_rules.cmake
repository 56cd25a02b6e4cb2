# Writes OUT: a C++ source holding every file in FILES (config/rules/*.json) as a string, so the
# agent has its default rules without any file installed. Run by probes/CMakeLists.txt.
set(body "")
foreach(f ${FILES})
  get_filename_component(name ${f} NAME)
  file(READ ${f} text)
  string(APPEND body "      {\"${name}\", R\"NGRULES(${text})NGRULES\"},\n")
endforeach()
file(WRITE ${OUT}.tmp
"// Generated from config/rules/*.json by probes/logs/embed_rules.cmake; do not edit.
#include \"probes/logs/rules.h\"

namespace ng::probes::logs {

const std::vector<std::pair<std::string, std::string>>& builtin_rule_files() {
  static const std::vector<std::pair<std::string, std::string>> files = {
${body}  };
  return files;
}

}  // namespace ng::probes::logs
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
