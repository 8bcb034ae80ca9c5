// RTF text: a small reader of its own (no Debian library extracts RTF text). One pass over the
// bytes with an explicit group stack, so a hostile file can neither recurse nor nest without
// bound; \uN with \ucN skip counts, \'hh in the code page of the document or the current font,
// destinations that are not body text skipped, field results kept and field codes dropped.
#include "rtf_text.h"

#include <cstring>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "code_pages.h"
#include "document_error.h"
#include "utf8_text.h"

namespace rp {
namespace {

constexpr size_t kMaxDepth = 256;       // real documents nest a few dozen groups at most
constexpr size_t kMaxFonts = 4096;      // font table entries remembered for their code page
constexpr int kMaxSkipCount = 64;       // \ucN beyond this is nonsense; clamp it
constexpr size_t kMaxControlWord = 32;  // the specification's limit on a control word's letters

enum class Skip : unsigned char {
    None,
    All,     // a destination that is not body text
    Object,  // an embedded object: only its \result group is text
};

struct Group {
    Skip skip = Skip::None;
    bool font_table = false;  // inside \fonttbl: font numbers and charsets are read, no text
    int uc = 1;               // characters that stand in for each \uN
    int code_page = 0;        // of the current font (\fN's \fcharset or \cpg); 0: the document's
};

// Destinations whose text is not the document's body.
bool skipped_destination(std::string_view w) {
    static const char *const kSkipped[] = {"colortbl",
                                           "stylesheet",
                                           "info",
                                           "pict",
                                           "header",
                                           "headerl",
                                           "headerr",
                                           "headerf",
                                           "footer",
                                           "footerl",
                                           "footerr",
                                           "footerf",
                                           "fldinst",
                                           "xe",
                                           "tc",
                                           "tcn",
                                           "atnid",
                                           "atnauthor",
                                           "annotation",
                                           "atrfstart",
                                           "atrfend",
                                           "bkmkstart",
                                           "bkmkend",
                                           "listtable",
                                           "listoverridetable",
                                           "listtext",
                                           "pntext",
                                           "pntxta",
                                           "pntxtb",
                                           "rsidtbl",
                                           "revtbl",
                                           "filetbl",
                                           "generator",
                                           "xmlnstbl",
                                           "themedata",
                                           "colorschememapping",
                                           "datastore",
                                           "latentstyles",
                                           "mmathPr",
                                           "pgdsctbl",
                                           "shppict",
                                           "nonshppict",
                                           "sp",
                                           "sn",
                                           "sv",
                                           "template",
                                           "userprops",
                                           "docvar",
                                           "fchars",
                                           "lchars",
                                           "ftnsep",
                                           "ftnsepc",
                                           "ftncn",
                                           "aftnsep",
                                           "aftnsepc",
                                           "aftncn",
                                           "objdata",
                                           "objclass",
                                           "objname",
                                           "blipuid",
                                           "falt",
                                           "panose",
                                           "fontemb",
                                           "fontfile",
                                           "passwordhash",
                                           "protusertbl",
                                           "wgrffmtfilter",
                                           "shprslt",
                                           "svb"};
    for (const char *s : kSkipped)
        if (w == s) return true;
    return false;
}

class RtfReader {
public:
    RtfReader(const char *data, size_t len, const Limits &limits)
        : p_(data), end_(data + len), max_out_(limits.max_file_size) {}

    std::string run() {
        if (static_cast<size_t>(end_ - p_) < 5 || std::memcmp(p_, "{\\rtf", 5) != 0)
            throw DocumentError(ErrorKind::Corrupt, "not an RTF document: it does not start with {\\rtf");
        while (p_ < end_) {
            const char c = *p_++;
            if (c == '{') {
                if (done_) break;  // text after the document's closing brace is not the document
                if (stack_.size() >= kMaxDepth)
                    throw DocumentError(ErrorKind::Limit,
                                        "RTF groups nest deeper than " + std::to_string(kMaxDepth) + " levels");
                stack_.push_back(stack_.empty() ? Group{} : stack_.back());
                skipping_chars_ = 0;
                destination_pending_ = true;
                ignorable_pending_ = false;
            } else if (c == '}') {
                if (stack_.empty()) throw DocumentError(ErrorKind::Corrupt, "RTF is damaged: a '}' closes no group");
                end_group();
                if (stack_.empty()) done_ = true;
            } else if (stack_.empty()) {
                if (done_) break;
            } else if (c == '\\') {
                control();
            } else if (c == '\r' || c == '\n') {
                // Line breaks in the file are not text.
            } else {
                destination_pending_ = false;
                if (skipping_chars_ > 0) {
                    --skipping_chars_;
                } else if (c == '\t') {
                    text_char('\t');
                } else {
                    byte(static_cast<unsigned char>(c));
                }
            }
        }
        if (!stack_.empty())
            throw DocumentError(ErrorKind::Corrupt, "RTF is damaged or truncated: it ends inside " +
                                                        std::to_string(stack_.size()) + " open group(s)");
        flush_surrogate();
        while (!out_.empty() && (out_.back() == '\n' || out_.back() == ' ')) out_.pop_back();
        return sanitize_utf8(out_);
    }

private:
    Group &top() { return stack_.back(); }

    void end_group() {
        if (top().font_table && font_entry_) finish_font();
        stack_.pop_back();
        skipping_chars_ = 0;  // a \uN's stand-ins never cross a group boundary
        destination_pending_ = false;
        ignorable_pending_ = false;
    }

    int document_code_page() const { return ansi_code_page_; }

    int current_code_page() const {
        const int cp = stack_.empty() ? 0 : stack_.back().code_page;
        return cp ? cp : document_code_page();
    }

    int font_code_page(int font) const {
        auto it = fonts_.find(font);
        return it == fonts_.end() ? 0 : it->second;
    }

    void emit(uint32_t cp) {
        if (top().skip != Skip::None || top().font_table) return;
        if (out_.size() >= max_out_)
            throw DocumentError(ErrorKind::Limit, "RTF text is larger than the file size limit");
        if (cp == '\n' && !out_.empty() && out_.back() == '\t') out_.pop_back();  // a row's last \cell
        append_utf8(out_, cp);
    }

    void text_char(uint32_t cp) {
        flush_surrogate();
        emit(cp);
    }

    // A byte of text in the current code page (\'hh or a raw byte above 0x7F).
    void byte(unsigned char b) {
        if (top().font_table) {
            if (b == ';') finish_font();
            return;
        }
        if (b < 0x20) return;
        text_char(code_page_char(current_code_page(), b));
    }

    // \uN: UTF-16 code units; a high surrogate waits for its low half.
    void unicode(long n) {
        uint32_t u = static_cast<uint32_t>(n < 0 ? n + 65536 : n) & 0xFFFF;
        if (u >= 0xD800 && u <= 0xDBFF) {
            flush_surrogate();
            high_surrogate_ = u;
        } else if (u >= 0xDC00 && u <= 0xDFFF && high_surrogate_) {
            emit(0x10000 + ((high_surrogate_ - 0xD800) << 10) + (u - 0xDC00));
            high_surrogate_ = 0;
        } else {
            text_char(u);
        }
        skipping_chars_ = top().uc;
    }

    void flush_surrogate() {
        if (high_surrogate_) {
            high_surrogate_ = 0;
            emit(0xFFFD);
        }
    }

    void finish_font() {
        if (font_entry_ && fonts_.size() < kMaxFonts) fonts_.emplace(font_number_, font_code_page_);
        font_entry_ = false;
        font_code_page_ = 0;
    }

    int hex_digit(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    void control() {
        if (p_ >= end_) throw DocumentError(ErrorKind::Corrupt, "RTF is truncated: it ends with a backslash");
        const char c = *p_;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            ++p_;
            control_symbol(c);
            return;
        }
        const char *word_start = p_;
        while (p_ < end_ && ((*p_ >= 'a' && *p_ <= 'z') || (*p_ >= 'A' && *p_ <= 'Z'))) ++p_;
        std::string_view word(word_start, static_cast<size_t>(p_ - word_start));
        if (word.size() > kMaxControlWord)
            throw DocumentError(ErrorKind::Corrupt, "RTF is damaged: a control word longer than 32 letters");
        bool has_param = false;
        long param = 0;
        bool negative = false;
        if (p_ < end_ && *p_ == '-' && p_ + 1 < end_ && p_[1] >= '0' && p_[1] <= '9') {
            negative = true;
            ++p_;
        }
        int digits = 0;
        while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
            if (digits < 10) param = param * 10 + (*p_ - '0');  // longer numbers are nonsense: clamp
            ++digits;
            ++p_;
            has_param = true;
        }
        if (param > 2147483647L) param = 2147483647L;
        if (negative) param = -param;
        if (p_ < end_ && *p_ == ' ') ++p_;  // the delimiter belongs to the control word

        if (skipping_chars_ > 0 && word != "bin") {
            // A control word stands in for one character after \uN (\par included).
            --skipping_chars_;
            destination_pending_ = false;
            return;
        }
        control_word(word, has_param, param);
    }

    void control_symbol(char c) {
        if (c == '\'') {
            if (end_ - p_ < 2) throw DocumentError(ErrorKind::Corrupt, "RTF is truncated inside a \\'hh escape");
            const int hi = hex_digit(p_[0]), lo = hex_digit(p_[1]);
            p_ += 2;
            destination_pending_ = false;
            if (skipping_chars_ > 0) {
                --skipping_chars_;
                return;
            }
            if (hi < 0 || lo < 0) return;  // not hex: nothing sensible to show
            byte(static_cast<unsigned char>(hi * 16 + lo));
            return;
        }
        if (c == '*') {
            if (destination_pending_) ignorable_pending_ = true;
            return;
        }
        destination_pending_ = false;
        if (skipping_chars_ > 0) {
            --skipping_chars_;
            return;
        }
        switch (c) {
            case '\\':
            case '{':
            case '}':
                text_char(static_cast<unsigned char>(c));
                break;
            case '~':
                text_char(0x00A0);
                break;
            case '_':
                text_char(0x2011);
                break;
            case '\r':
            case '\n':
                text_char('\n');
                break;  // "\<newline>" is \par
            case '\t':
                text_char('\t');
                break;
            default:
                break;  // \- optional hyphen, \: index subentry, \| formula
        }
    }

    void control_word(std::string_view w, bool has_param, long n) {
        const bool first = destination_pending_;
        destination_pending_ = false;
        Group &g = top();
        // Destinations.
        if (w == "fonttbl") {
            g.font_table = true;
            return;
        }
        if (w == "object") {
            if (g.skip == Skip::None) g.skip = Skip::Object;
            return;
        }
        if (w == "result") {
            if (g.skip == Skip::Object) g.skip = Skip::None;
            return;
        }
        if (ignorable_pending_) {
            // {\*\dest ...} may be ignored by a reader that does not know it; the only starred
            // destination read here is a shape's instructions, for the text boxes inside.
            ignorable_pending_ = false;
            if (first && w != "shpinst") {
                g.skip = Skip::All;
                return;
            }
        }
        if (skipped_destination(w)) {
            g.skip = Skip::All;
            return;
        }
        // Binary data: skipped as bytes, never read as RTF.
        if (w == "bin") {
            skipping_chars_ = 0;
            const size_t left = static_cast<size_t>(end_ - p_);
            const size_t skip = n > 0 ? static_cast<size_t>(n) : 0;
            if (skip > left) throw DocumentError(ErrorKind::Corrupt, "RTF is truncated inside \\bin data");
            p_ += skip;
            return;
        }
        if (g.font_table) {
            if (w == "f" && has_param) {
                if (font_entry_) finish_font();
                font_entry_ = true;
                font_number_ = static_cast<int>(n);
                font_code_page_ = 0;
            } else if (w == "fcharset" && has_param) {
                if (!font_code_page_) font_code_page_ = charset_code_page(static_cast<int>(n));
            } else if (w == "cpg" && has_param && n > 0 && n < 100000) {
                font_code_page_ = static_cast<int>(n);
            }
            return;
        }
        // Document settings and character state.
        if (w == "ansicpg" && has_param && n > 0 && n < 100000) {
            ansi_code_page_ = static_cast<int>(n);
        } else if (w == "ansi") {
            ansi_code_page_ = 1252;
        } else if (w == "mac") {
            ansi_code_page_ = 10000;
        } else if (w == "pc") {
            ansi_code_page_ = 437;
        } else if (w == "pca") {
            ansi_code_page_ = 850;
        } else if (w == "deff" && has_param) {
            default_font_ = static_cast<int>(n);
        } else if (w == "f" && has_param) {
            g.code_page = font_code_page(static_cast<int>(n));
        } else if (w == "plain") {
            g.code_page = font_code_page(default_font_);
        } else if (w == "uc" && has_param) {
            g.uc = n < 0 ? 0 : (n > kMaxSkipCount ? kMaxSkipCount : static_cast<int>(n));
        } else if (w == "u" && has_param) {
            unicode(n);
        } else if (w == "par" || w == "sect" || w == "page" || w == "line" || w == "row" || w == "nestrow" ||
                   w == "column") {
            text_char('\n');
        } else if (w == "tab" || w == "cell" || w == "nestcell") {
            text_char('\t');
        } else if (w == "emdash") {
            text_char(0x2014);
        } else if (w == "endash") {
            text_char(0x2013);
        } else if (w == "bullet") {
            text_char(0x2022);
        } else if (w == "lquote") {
            text_char(0x2018);
        } else if (w == "rquote") {
            text_char(0x2019);
        } else if (w == "ldblquote") {
            text_char(0x201C);
        } else if (w == "rdblquote") {
            text_char(0x201D);
        } else if (w == "emspace" || w == "enspace" || w == "qmspace") {
            text_char(' ');
        }
        // Every other control word is formatting: no text.
    }

    const char *p_;
    const char *end_;
    size_t max_out_;
    std::vector<Group> stack_;
    std::unordered_map<int, int> fonts_;  // font number → code page (0: the document's)
    std::string out_;
    int ansi_code_page_ = 1252;
    int default_font_ = -1;
    int skipping_chars_ = 0;
    uint32_t high_surrogate_ = 0;
    bool destination_pending_ = false;  // right after '{': a control word here names a destination
    bool ignorable_pending_ = false;    // after {\*
    bool done_ = false;
    bool font_entry_ = false;
    int font_number_ = 0;
    int font_code_page_ = 0;
};

}  // namespace

std::string rtf_text(const char *data, size_t len, const Limits &limits) {
    check_document_size(len, limits, "RTF");
    return RtfReader(data, len, limits).run();
}

}  // namespace rp
