// The parser's sandbox (sandbox.cpp): what the zygote locks down once at start, and what the
// child forked for each document adds before it reads a byte of that document.
#pragma once

#include <string>

#include "../protocol/parser_protocol.h"

namespace rp::sandbox {

// Once in the zygote, after the libraries are warmed up: restricts the filesystem with Landlock
// where the kernel has it (best effort), sets no_new_privs, prepares the document filter and
// loads the zygote's own, wider system-call filter. False (with the reason in `error`) if the
// system-call filters cannot be had: the zygote then refuses every document.
bool enter_zygote(std::string &error);

// In a child just forked for one document: hard resource limits from the request, then the
// document filter on top of the zygote's. Exits the process if the filter cannot be installed.
void enter_child(const rp_request_header &h);

}  // namespace rp::sandbox
