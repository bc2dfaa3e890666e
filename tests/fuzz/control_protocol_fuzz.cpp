// The control socket's protocol (src/control/control_protocol.cpp): the daemon reads request
// lines from any member of the failoverd group, failoverctl reads the daemon's answers.
//
// Contract: parse_request / parse_response never throw, and an error is a non-empty
// sentence. An accepted request has a known command and object args; format_request gives
// one line that parses back to the same request. An accepted answer's error is set only when
// !ok; status_from_json never throws on an ok answer's result. A formatted answer (error or
// result) is one line that parse_response reads back.
#include <string>

#include "failoverd/control/control_protocol.h"
#include "fuzz_support.h"

namespace fc = failoverd::control;

namespace {

bool one_line(const std::string& s) {
  return !s.empty() && s.back() == '\n' && s.find('\n') == s.size() - 1;
}

void run(std::string_view line) {
  const auto request = fc::parse_request(line);
  if (!request) {
    FUZZ_CHECK(!request.error().empty(), "empty error");
    // The error goes back to the client as an answer: that answer must be readable.
    const auto answer = fc::format_error_response(request.error());
    FUZZ_CHECK(one_line(answer), answer);
    const auto back = fc::parse_response(answer);
    FUZZ_CHECK(back && !back->ok && !back->error.empty(), answer);
  } else {
    FUZZ_CHECK(request->version == fc::kProtocolVersion, line);
    FUZZ_CHECK(request->args.is_object(), line);
    bool known = false;
    for (const auto c : fc::kCommands) known = known || c == request->command;
    FUZZ_CHECK(known, request->command);
    const auto text = fc::format_request(*request);
    FUZZ_CHECK(one_line(text), text);
    const auto again = fc::parse_request(text);
    FUZZ_CHECK(again.has_value(), text + " -> " + again.error());
    FUZZ_CHECK(again->command == request->command, text);
    FUZZ_CHECK(again->args == request->args, text);
    FUZZ_CHECK(again->version == request->version, text);
  }

  const auto response = fc::parse_response(line);
  if (!response) {
    FUZZ_CHECK(!response.error().empty(), "empty error");
    return;
  }
  if (response->ok) {
    FUZZ_CHECK(response->error.empty(), line);
    if (response->result.is_object()) {
      const auto status = fc::status_from_json(response->result);
      if (status) {
        // What failoverctl understood is what the daemon would send again.
        const auto j = fc::to_json(*status);
        const auto again = fc::status_from_json(j);
        FUZZ_CHECK(again.has_value(), j.dump());
      } else {
        FUZZ_CHECK(!status.error().empty(), line);
      }
    }
    const auto text = fc::format_response(fc::Outcome(response->result));
    FUZZ_CHECK(one_line(text), text);
  } else {
    const auto text = fc::format_response(fc::Outcome(failoverd::util::unexpected(response->error)));
    FUZZ_CHECK(one_line(text), text);
    const auto back = fc::parse_response(text);
    FUZZ_CHECK(back && !back->ok && back->error == response->error, text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FUZZ_GUARD(run(fuzz::as_text(data, size)));
  return 0;
}
