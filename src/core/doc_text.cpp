// Word 97-2003 (.doc) text through libwv, opened from memory with libgsf (the parser's sandbox may
// not create files). libgsf checks the OLE2 container and the file information block first, so
// the common damage (not OLE2, no WordDocument stream, an encrypted or pre-Word 6 file, a table
// stream that is missing or too short) is a clear error before libwv, which trusts its input and
// may crash on worse, sees the bytes. A crash is then the parser process's alone.
#include "doc_text.h"

#include <gsf/gsf-infile-msole.h>
#include <gsf/gsf-infile.h>
#include <gsf/gsf-input-memory.h>
#include <gsf/gsf-utils.h>
#include <wv.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "code_pages.h"
#include "document_error.h"
#include "utf8_text.h"

namespace rp {
namespace {

constexpr uint16_t kWord8Ident = 0xA5EC;  // Word 97-2003
constexpr uint16_t kWord6Ident = 0xA5DC;  // Word 6 and 95
constexpr size_t kWord8FibSize = 898;     // the part of the FIB libwv reads for Word 97 and later
constexpr size_t kWord6FibSize = 682;
constexpr size_t kMaxFieldDepth = 64;

struct GObjectDeleter {
    void operator()(void *p) const {
        if (p) g_object_unref(p);
    }
};
template <typename T>
using GPtr = std::unique_ptr<T, GObjectDeleter>;

uint16_t le16(const guint8 *p) {
    return static_cast<uint16_t>(p[0] | (p[1] << 8));
}
uint32_t le32(const guint8 *p) {
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
           (static_cast<uint32_t>(p[3]) << 24);
}

GsfInput *memory_input(const char *data, size_t len) {
    return gsf_input_memory_new(reinterpret_cast<const guint8 *>(data), static_cast<gsf_off_t>(len), FALSE);
}

// What the OLE2 file is, when it is not a Word document.
std::string other_office_kind(GsfInfile *ole) {
    auto has = [ole](const char *name) {
        GPtr<GsfInput> child(gsf_infile_child_by_name(ole, name));
        return child != nullptr;
    };
    if (has("Workbook") || has("Book")) return "an Excel workbook (.xls)";
    if (has("PowerPoint Document")) return "a PowerPoint presentation (.ppt)";
    if (has("VisioDocument")) return "a Visio drawing";
    if (has("EncryptedPackage")) return "an encrypted Office 2007+ document";
    return "an OLE2 compound file that is not a Word document";
}

// Word 97's structures that libwv indexes without bounds checks (found by fuzz/doc_fuzzer):
// every FIB (offset, size) pair it reads must lie inside the table stream, the bin tables of
// paragraph and character properties must be well-formed and name pages inside the WordDocument
// stream, and each such page's run count must fit in its 512 bytes.
void check_word8_tables(const guint8 *fib, GsfInput *word, GsfInput *table) {
    auto damaged = [](const std::string &what) {
        throw DocumentError(ErrorKind::Corrupt, "Word document is damaged: " + what);
    };
    const uint64_t word_size = static_cast<uint64_t>(gsf_input_size(word));
    const uint64_t table_size = static_cast<uint64_t>(gsf_input_size(table));
    const uint64_t fc_min = le32(fib + 0x18), fc_mac = le32(fib + 0x1C);
    if (fc_min > fc_mac || fc_mac > word_size) damaged("its text lies outside the WordDocument stream");
    // FibRgFcLcb97 pairs at 0x9A + 8 * i: style sheet, notes, sections, headers, bin tables,
    // fonts, fields, bookmarks, document properties, piece table, end notes, lists.
    static const int kPairs[] = {1,  2,  3,  4,  5,  6,  8,  11, 12, 13, 15, 16, 17,
                                 18, 19, 21, 22, 23, 31, 32, 33, 46, 47, 73, 74};
    for (int i : kPairs) {
        const uint64_t fc = le32(fib + 0x9A + 8 * i), lcb = le32(fib + 0x9A + 8 * i + 4);
        if (lcb && fc + lcb > table_size) damaged("a structure lies outside the table stream");
    }
    const uint64_t lcb_clx = le32(fib + 0x9A + 8 * 33 + 4);
    if (lcb_clx == 0) damaged("it has no piece table");
    // Bin tables (PlcfBteChpx = pair 12, PlcfBtePapx = pair 13): n+1 CPs then n page numbers.
    for (int i : {12, 13}) {
        const uint64_t fc = le32(fib + 0x9A + 8 * i), lcb = le32(fib + 0x9A + 8 * i + 4);
        if (lcb < 12 || (lcb - 4) % 8 != 0) damaged("a formatting bin table has an impossible size");
        std::vector<guint8> plc(lcb);
        if (gsf_input_seek(table, static_cast<gsf_off_t>(fc), G_SEEK_SET) || !gsf_input_read(table, lcb, plc.data()))
            damaged("a formatting bin table cannot be read");
        const uint64_t n = (lcb - 4) / 8;
        const unsigned max_runs = i == 12 ? 0x65 : 0x1D;  // CHPX / PAPX runs per 512-byte page
        for (uint64_t k = 0; k < n; ++k) {
            const uint64_t pn = le32(plc.data() + (n + 1) * 4 + k * 4) & 0x3FFFFF;
            if ((pn + 1) * 512 > word_size) damaged("a formatting page lies outside the WordDocument stream");
            guint8 crun = 0;
            if (gsf_input_seek(word, static_cast<gsf_off_t>(pn * 512 + 511), G_SEEK_SET) ||
                !gsf_input_read(word, 1, &crun))
                damaged("a formatting page cannot be read");
            if (crun == 0 || crun > max_runs) damaged("a formatting page has an impossible run count");
        }
    }
}

// The checks libwv does not make, on the container and the file information block (FIB).
// Returns the FIB's identifier (Word 97+ or Word 6/95).
uint16_t check_container(const char *data, size_t len) {
    GPtr<GsfInput> input(memory_input(data, len));
    GError *err = nullptr;
    GPtr<GsfInfile> ole(gsf_infile_msole_new(input.get(), &err));
    if (!ole) {
        std::string why = err && err->message ? err->message : "unknown error";
        if (err) g_error_free(err);
        throw DocumentError(ErrorKind::Corrupt, "Word document is damaged: not a readable OLE2 compound file", why);
    }
    GPtr<GsfInput> word(gsf_infile_child_by_name(ole.get(), "WordDocument"));
    if (!word) {
        const std::string kind = other_office_kind(ole.get());
        if (kind.find("encrypted") != std::string::npos)
            throw DocumentError(ErrorKind::Encrypted, "document is encrypted: found " + kind,
                                "Save it without a password and upload it again.");
        throw DocumentError(ErrorKind::Unsupported, "unsupported document: found " + kind,
                            "Supported formats are PDF, DOCX, ODT, DOC, RTF, PNG, JPEG, TIFF and UTF-8 text.");
    }
    const gsf_off_t word_size = gsf_input_size(word.get());
    guint8 fib[kWord8FibSize];
    const size_t head = word_size >= static_cast<gsf_off_t>(kWord8FibSize) ? kWord8FibSize : kWord6FibSize;
    if (word_size < static_cast<gsf_off_t>(kWord6FibSize) || !gsf_input_read(word.get(), head, fib))
        throw DocumentError(ErrorKind::Corrupt, "Word document is damaged: its WordDocument stream is truncated");
    const uint16_t ident = le16(fib);
    const uint16_t flags = le16(fib + 0x0A);
    if (ident != kWord8Ident && ident != kWord6Ident) {
        if (ident == 0xA5DB || ident == 0x37FE)
            throw DocumentError(ErrorKind::Unsupported,
                                "unsupported document: a Word document older than Word 6 (1993)",
                                "Save it as .docx or Word 97-2003 and upload it again.");
        throw DocumentError(ErrorKind::Corrupt,
                            "Word document is damaged: its WordDocument stream has no valid header");
    }
    if (flags & 0x0100)  // fEncrypted: password to open (RC4 or XOR obfuscation)
        throw DocumentError(ErrorKind::Encrypted, "Word document is encrypted: it needs a password to open",
                            "Save it without a password and upload it again.");
    if (ident == kWord8Ident) {
        if (head < kWord8FibSize)
            throw DocumentError(ErrorKind::Corrupt,
                                "Word document is damaged: its file information block is truncated");
        // Word 97 keeps the piece table (CLX) in the table stream the FIB names.
        const char *table_name = (flags & 0x0200) ? "1Table" : "0Table";
        GPtr<GsfInput> table(gsf_infile_child_by_name(ole.get(), table_name));
        if (!table)
            throw DocumentError(ErrorKind::Corrupt, std::string("Word document is damaged: its table stream (") +
                                                        table_name + ") is missing");
        check_word8_tables(fib, word.get(), table.get());
    }
    return ident;
}

// Collects the main text from libwv's callbacks.
struct Collector {
    bool word8 = true;
    bool row_end_paragraph = false;  // the current paragraph ends a table row (PAP.fTtp)
    std::vector<bool> fields;        // per open field: past its separator (showing its result)
    size_t fields_in_code = 0;       // open fields still in their code part
    size_t overflow_fields = 0;      // fields beyond kMaxFieldDepth, counted only
    uint32_t high_surrogate = 0;
    size_t max_out;
    bool too_large = false;
    std::string out;

    void put(uint32_t cp) {
        if (fields_in_code || overflow_fields || too_large) return;
        if (out.size() >= max_out) {
            too_large = true;
            return;
        }
        if (cp == '\n' && !out.empty() && out.back() == '\t') out.pop_back();  // a row's last cell
        append_utf8(out, cp);
    }

    void field_char(uint16_t c) {
        if (c == 0x13) {
            if (fields.size() >= kMaxFieldDepth) {
                ++overflow_fields;
                return;
            }
            fields.push_back(false);
            ++fields_in_code;
        } else if (c == 0x14) {
            if (overflow_fields || fields.empty() || fields.back()) return;
            fields.back() = true;
            --fields_in_code;
        } else {  // 0x15
            if (overflow_fields) {
                --overflow_fields;
                return;
            }
            if (fields.empty()) return;
            if (!fields.back()) --fields_in_code;
            fields.pop_back();
        }
    }

    void character(uint32_t c) {
        if (c >= 0xD800 && c <= 0xDBFF) {
            if (high_surrogate) put(0xFFFD);
            high_surrogate = c;
            return;
        }
        if (c >= 0xDC00 && c <= 0xDFFF && high_surrogate) {
            put(0x10000 + ((high_surrogate - 0xD800) << 10) + (c - 0xDC00));
            high_surrogate = 0;
            return;
        }
        if (high_surrogate) {
            put(0xFFFD);
            high_surrogate = 0;
        }
        switch (c) {
            case 0x13:
            case 0x14:
            case 0x15:
                field_char(static_cast<uint16_t>(c));
                return;
            case 0x0D:
                put('\n');
                return;  // paragraph end
            case 0x07:
                put(row_end_paragraph ? '\n' : '\t');
                return;  // row end / cell end
            case 0x0B:   // line break
            case 0x0C:   // page or section break
            case 0x0E:
                put('\n');
                return;  // column break
            case 0x09:
                put('\t');
                return;
            case 0x1E:
                put('-');
                return;  // non-breaking hyphen
            case 0xF0B7:
                put(0x2022);
                return;  // Symbol font bullet
            default:
                break;
        }
        if (c < 0x20 || (c >= 0xF000 && c <= 0xF0FF)) return;  // control marks, Symbol-font glyphs
        put(c);
    }
};

Collector *collector_of(wvParseStruct *ps) {
    return static_cast<Collector *>(ps->userData);
}

int on_char(wvParseStruct *ps, U16 c, U8 eight_bit, U16 lid) {
    Collector *col = collector_of(ps);
    uint32_t cp = c;
    // 8-bit ("compressed") text: Windows-1252 in Word 97 and later, the language's ANSI code page
    // in Word 6/95. Field and paragraph marks are below 0x80 in every one of them.
    if (eight_bit && c < 0x100)
        cp = code_page_char(col->word8 ? 1252 : lid_code_page(lid), static_cast<unsigned char>(c));
    col->character(cp);
    return 0;
}

// Special characters (CHP.fSpec): field marks reach the document here too; pictures, footnote
// and annotation references and drawn objects carry no text.
int on_special_char(wvParseStruct *ps, U16 c, CHP *) {
    if (c == 0x13 || c == 0x14 || c == 0x15) collector_of(ps)->field_char(c);
    return 0;
}

int on_element(wvParseStruct *ps, wvTag tag, void *props, int) {
    if (tag == PARABEGIN && props) collector_of(ps)->row_end_paragraph = static_cast<PAP *>(props)->fTtp != 0;
    return 0;
}

int on_document(wvParseStruct *, wvTag) {
    return 0;
}

void discard_log(const gchar *, GLogLevelFlags, const gchar *, gpointer) {}

GLogWriterOutput discard_structured_log(GLogLevelFlags, const GLogField *, gsize, gpointer) {
    return G_LOG_WRITER_HANDLED;
}

// Once per process. libgsf reports damage with g_warning, and glib's default log writer probes
// stderr with getpeername and ioctl (for journald and colours), which the parser's sandbox kills
// the process for: the messages are dropped instead (the error says what was wrong).
void init_gsf_once() {
    static bool done = false;
    if (done) return;
    g_log_set_default_handler(discard_log, nullptr);
    g_log_set_writer_func(discard_structured_log, nullptr, nullptr);
    gsf_init();
    done = true;
}

}  // namespace

std::string doc_text(const char *data, size_t len, const Limits &limits) {
    check_document_size(len, limits, "DOC");
    if (len < 8 || std::memcmp(data, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) != 0)
        throw DocumentError(ErrorKind::Corrupt, "not a Word 97-2003 document: no OLE2 signature");
    init_gsf_once();
    const uint16_t ident = check_container(data, len);

    GPtr<GsfInput> input(memory_input(data, len));
    wvParseStruct ps;
    std::memset(&ps, 0, sizeof ps);
    const int rc = wvInitParser_gsf(&ps, input.get());
    if (rc != 0) {
        wvOLEFree(&ps);
        tokenTreeFreeAll();
        if (ps.fib.fEncrypted)
            throw DocumentError(ErrorKind::Encrypted, "Word document is encrypted: it needs a password to open");
        throw DocumentError(ErrorKind::Corrupt, "Word document is damaged: libwv cannot read it",
                            "wvInitParser returned " + std::to_string(rc));
    }
    Collector col;
    col.word8 = ident == kWord8Ident;
    // Text is at most a few bytes per character of the file; the cap only stops a runaway
    // piece table from filling memory.
    col.max_out = limits.max_file_size;
    ps.userData = &col;
    wvSetCharHandler(&ps, on_char);
    wvSetSpecialCharHandler(&ps, on_special_char);
    wvSetElementHandler(&ps, on_element);
    wvSetDocumentHandler(&ps, on_document);
    wvText(&ps);
    wvOLEFree(&ps);
    tokenTreeFreeAll();  // libwv rebuilds its token tree on every wvInitParser
    if (col.too_large) throw DocumentError(ErrorKind::Limit, "Word document text is larger than the file size limit");
    std::string &out = col.out;
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return sanitize_utf8(out);
}

}  // namespace rp
