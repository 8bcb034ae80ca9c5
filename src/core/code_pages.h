// Single-byte Windows, DOS and Mac code pages to Unicode, for the byte text of RTF (\'hh,
// \ansicpg, \fcharset) and of Word 6/95 documents. Tables cover the upper half (0x80-0xFF);
// the lower half is ASCII in all of them.
#pragma once
#include "no_postgres.h"

#include <cstdint>
#include <string>

namespace rp {

// Whether the code page is one of the tables here (437, 850, 874, 1250-1258, 10000).
bool code_page_known(int code_page);

// The Unicode code point of one byte; U+FFFD for an unknown code page or an unassigned byte.
uint32_t code_page_char(int code_page, unsigned char byte);

// The code page of a Windows character set number (RTF \fcharset, LOGFONT lfCharSet); 0 when
// the set means "the document's default" (ANSI, DEFAULT, SYMBOL).
int charset_code_page(int charset);

// The ANSI code page Word used for a language id (LID) in Word 6/95 documents; 1252 by default.
int lid_code_page(int lid);

// Appends the UTF-8 form of a code point; surrogates and values above U+10FFFF become U+FFFD.
void append_utf8(std::string &out, uint32_t cp);

}  // namespace rp
