// The parser does without colour management (colour_management.cpp).
#pragma once

namespace rp::helper {

// Once in the zygote, before the first document: every colour transform poppler asks Little CMS
// for is refused, so poppler converts colours without one. False if Little CMS refused the plugin.
bool turn_off_colour_management();

}  // namespace rp::helper
