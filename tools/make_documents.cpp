// make_documents: builds the project's own sample documents and hostile test inputs.
//
//   make_documents pdf  OUT.pdf  IN.txt      typeset a text résumé with cairo (first line = name,
//                                            ALL-CAPS lines = headings, pages break as needed)
//   make_documents docx OUT.docx IN.txt      one w:p per line, through libzip
//   make_documents zip  OUT.zip  ENTRY...    ENTRY is NAME=FILE (file bytes, deflated),
//                                            NAME==FILE (file bytes, stored), NAME@zeros:N
//                                            (N zero bytes, deflated), NAME@text:STRING,
//                                            NAME@symlink:TARGET, or DIR/ (a directory)
//   make_documents many OUT.zip N            N tiny entries
//   make_documents random OUT N SEED         N pseudo-random bytes (deterministic)
//   make_documents scan OUT.pdf DPI DEG PNG...  a scan: each PNG (scanned at DPI) painted on a page
//                                            of its size, turned DEG degrees, no text layer
//   make_documents blankpdf OUT.pdf N W H    N empty pages of W × H points (no text layer)
//   make_documents pngbomb OUT.png W H       a valid PNG header declaring W × H pixels, little data
//
// Entry names are written verbatim, so "../../etc/passwd" or "/abs" makes a hostile archive.
#include <cairo-pdf.h>
#include <cairo.h>
#include <sys/stat.h>
#include <zip.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void die(const std::string &msg) {
    std::cerr << "make_documents: " << msg << "\n";
    std::exit(1);
}

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) die("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> lines_of(const std::string &text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
    return lines;
}

bool is_heading(const std::string &line) {
    bool letter = false;
    for (unsigned char c : line) {
        if (c >= 'a' && c <= 'z') return false;
        if (c >= 'A' && c <= 'Z') letter = true;
    }
    return letter;
}

// --- PDF -------------------------------------------------------------------------------------

struct Typesetter {
    static constexpr double kWidth = 595, kHeight = 842, kMargin = 56;
    cairo_t *cr;
    double y = kMargin;

    void font(double size, bool bold) {
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
        cairo_set_font_size(cr, size);
    }
    void need(double h) {
        if (y + h > kHeight - kMargin) {
            cairo_show_page(cr);
            y = kMargin;
        }
    }
    double width_of(const std::string &s) {
        cairo_text_extents_t ext;
        cairo_text_extents(cr, s.c_str(), &ext);
        return ext.x_advance;
    }
    // Greedy word wrap to the text column.
    void paragraph(const std::string &text, double size, bool bold, double after) {
        font(size, bold);
        const double max = kWidth - 2 * kMargin;
        std::istringstream words(text);
        std::string word, line;
        auto flush = [&] {
            need(size * 1.4);
            y += size * 1.2;
            cairo_move_to(cr, kMargin, y);
            cairo_show_text(cr, line.c_str());
            line.clear();
        };
        while (words >> word) {
            std::string candidate = line.empty() ? word : line + " " + word;
            if (!line.empty() && width_of(candidate) > max) flush();
            line = line.empty() ? word : line + " " + word;
        }
        if (!line.empty()) flush();
        y += after;
    }
};

void make_pdf(const std::string &out, const std::string &in) {
    auto lines = lines_of(read_file(in));
    if (lines.empty()) die(in + " is empty");
    cairo_surface_t *surface = cairo_pdf_surface_create(out.c_str(), Typesetter::kWidth, Typesetter::kHeight);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, ("Résumé of " + lines[0]).c_str());
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_AUTHOR, lines[0].c_str());
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "resume_pipeline make_documents");
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, "2026-01-15T09:30:00Z");
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE, "2026-01-15T09:30:00Z");
    Typesetter t{cairo_create(surface)};
    t.paragraph(lines[0], 20, true, 4);
    for (size_t i = 1; i < lines.size(); ++i) {
        const std::string &line = lines[i];
        if (line.empty())
            t.y += 6;
        else if (is_heading(line))
            t.paragraph(line, 12, true, 2);
        else
            t.paragraph(line, 10.5, false, 0);
    }
    cairo_show_page(t.cr);
    cairo_destroy(t.cr);
    cairo_surface_finish(surface);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) die("cairo failed to write " + out);
    cairo_surface_destroy(surface);
}

// --- ZIP and DOCX ----------------------------------------------------------------------------

class ZipWriter {
public:
    explicit ZipWriter(const std::string &path) {
        int err = 0;
        za_ = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
        if (!za_) die("cannot create " + path);
    }
    // Keeps the bytes alive until close(): libzip reads them only then.
    zip_int64_t add(const std::string &name, std::string bytes, bool stored = false) {
        buffers_.push_back(std::move(bytes));
        const std::string &b = buffers_.back();
        zip_source_t *src = zip_source_buffer(za_, b.data(), b.size(), 0);
        zip_int64_t idx = src ? zip_file_add(za_, name.c_str(), src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE) : -1;
        if (idx < 0) {
            if (src) zip_source_free(src);
            die("cannot add " + name + ": " + zip_strerror(za_));
        }
        zip_set_file_compression(za_, idx, stored ? ZIP_CM_STORE : ZIP_CM_DEFLATE, stored ? 0 : 9);
        return idx;
    }
    void add_dir(const std::string &name) {
        if (zip_dir_add(za_, name.c_str(), ZIP_FL_ENC_UTF_8) < 0) die("cannot add directory " + name);
    }
    void add_symlink(const std::string &name, const std::string &target) {
        zip_int64_t idx = add(name, target);
        zip_file_set_external_attributes(za_, idx, 0, ZIP_OPSYS_UNIX, (S_IFLNK | 0777u) << 16);
    }
    void close() {
        if (zip_close(za_) != 0) die(std::string("cannot write archive: ") + zip_strerror(za_));
    }

private:
    zip_t *za_;
    std::deque<std::string> buffers_;  // deque: elements never move, libzip keeps pointers
};

std::string xml_escape(const std::string &s) {
    std::string out;
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

void make_docx(const std::string &out, const std::string &in) {
    std::string body;
    for (const auto &line : lines_of(read_file(in))) {
        if (line.empty()) {
            body += "<w:p/>";
            continue;
        }
        std::string props = is_heading(line) ? "<w:rPr><w:b/></w:rPr>" : "";
        // Split at a tab to exercise w:tab, as real templates do for dates.
        std::string run;
        size_t tab = line.find('\t');
        if (tab == std::string::npos)
            run = "<w:r>" + props + "<w:t xml:space=\"preserve\">" + xml_escape(line) + "</w:t></w:r>";
        else
            run = "<w:r>" + props + "<w:t>" + xml_escape(line.substr(0, tab)) + "</w:t><w:tab/><w:t>" +
                  xml_escape(line.substr(tab + 1)) + "</w:t></w:r>";
        body += "<w:p>" + run + "</w:p>";
    }
    ZipWriter z(out);
    z.add("[Content_Types].xml",
          "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
          "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
          "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
          "<Default Extension=\"xml\" ContentType=\"application/xml\"/>"
          "<Override PartName=\"/word/document.xml\" "
          "ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>"
          "</Types>");
    z.add("_rels/.rels",
          "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
          "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
          "<Relationship Id=\"rId1\" "
          "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" "
          "Target=\"word/document.xml\"/></Relationships>");
    z.add("word/document.xml",
          "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
          "<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\"><w:body>" +
              body + "</w:body></w:document>");
    z.close();
}

void make_zip(const std::string &out, int argc, char **argv) {
    ZipWriter z(out);
    for (int i = 0; i < argc; ++i) {
        std::string spec = argv[i];
        size_t at = spec.find('@');
        size_t eq = spec.find('=');
        if (at != std::string::npos && (eq == std::string::npos || at < eq)) {
            std::string name = spec.substr(0, at), kind = spec.substr(at + 1);
            if (kind.rfind("zeros:", 0) == 0)
                z.add(name, std::string(std::strtoull(kind.c_str() + 6, nullptr, 10), '\0'));
            else if (kind.rfind("text:", 0) == 0)
                z.add(name, kind.substr(5));
            else if (kind.rfind("symlink:", 0) == 0)
                z.add_symlink(name, kind.substr(8));
            else
                die("unknown entry kind in " + spec);
        } else if (eq != std::string::npos && spec.compare(eq, 2, "==") == 0) {
            z.add(spec.substr(0, eq), read_file(spec.substr(eq + 2)), true);
        } else if (eq != std::string::npos) {
            z.add(spec.substr(0, eq), read_file(spec.substr(eq + 1)));
        } else if (!spec.empty() && spec.back() == '/') {
            z.add_dir(spec);
        } else {
            die("cannot understand entry " + spec);
        }
    }
    z.close();
}

void make_many(const std::string &out, long n) {
    ZipWriter z(out);
    for (long i = 0; i < n; ++i) z.add("tiny/" + std::to_string(i) + ".txt", "x");
    z.close();
}

void make_random(const std::string &out, long n, uint64_t seed) {
    std::string bytes;
    bytes.reserve(n);
    uint64_t x = seed ? seed : 1;
    for (long i = 0; i < n; ++i) {  // xorshift64*: reproducible noise, no crypto needed
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        bytes += static_cast<char>((x * 2685821657736338717ull) >> 56);
    }
    std::ofstream(out, std::ios::binary) << bytes;
}

}  // namespace

// --- Scans: images on PDF pages, no text layer ---------------------------------------------------

void make_scan(const std::string &out, double dpi, double degrees, int n, char **pngs) {
    if (dpi <= 0) die("scan: DPI must be positive");
    cairo_surface_t *surface = cairo_pdf_surface_create(out.c_str(), 595, 842);
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "resume_pipeline make_documents (scan)");
    cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE, "2026-01-15T09:30:00Z");
    cairo_t *cr = cairo_create(surface);
    for (int i = 0; i < n; i++) {
        cairo_surface_t *img = cairo_image_surface_create_from_png(pngs[i]);
        if (cairo_surface_status(img) != CAIRO_STATUS_SUCCESS) die(std::string("cannot read PNG ") + pngs[i]);
        const double w = cairo_image_surface_get_width(img) * 72.0 / dpi;
        const double h = cairo_image_surface_get_height(img) * 72.0 / dpi;
        cairo_pdf_surface_set_size(surface, w, h);
        cairo_save(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);  // what a scanner shows around a page turned on its glass
        cairo_paint(cr);
        cairo_translate(cr, w / 2, h / 2);
        cairo_rotate(cr, degrees * M_PI / 180.0);
        cairo_translate(cr, -w / 2, -h / 2);
        cairo_scale(cr, 72.0 / dpi, 72.0 / dpi);
        cairo_set_source_surface(cr, img, 0, 0);
        cairo_paint(cr);
        cairo_restore(cr);
        cairo_show_page(cr);
        cairo_surface_destroy(img);
    }
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) die("cannot write " + out);
    cairo_surface_destroy(surface);
}

void make_blank_pdf(const std::string &out, long pages, double w, double h) {
    cairo_surface_t *surface = cairo_pdf_surface_create(out.c_str(), w, h);
    cairo_t *cr = cairo_create(surface);
    for (long i = 0; i < pages; i++) cairo_show_page(cr);
    cairo_destroy(cr);
    cairo_surface_finish(surface);
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) die("cannot write " + out);
    cairo_surface_destroy(surface);
}

// A PNG whose header declares W × H 8-bit grey pixels but whose data is a few bytes: what a
// decoder would allocate is the attack, not what the file holds.
uint32_t crc32_of(const std::string &bytes) {
    uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char c : bytes) {
        crc ^= c;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

void make_png_bomb(const std::string &out, uint32_t w, uint32_t h) {
    auto be32 = [](uint32_t v) { return std::string{char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; };
    auto chunk = [&](const std::string &type, const std::string &data) {
        return be32(static_cast<uint32_t>(data.size())) + type + data + be32(crc32_of(type + data));
    };
    const std::string ihdr = be32(w) + be32(h) + std::string{8, 0, 0, 0, 0};
    // A stored (uncompressed) zlib block holding one empty row: valid, and far too short.
    const std::string idat = std::string{0x78, 0x01, 0x01, 0x01, 0x00, char(0xFE), char(0xFF), 0x00} + be32(0x00010001);
    std::ofstream f(out, std::ios::binary);
    f << std::string("\x89PNG\r\n\x1a\n", 8) << chunk("IHDR", ihdr) << chunk("IDAT", idat) << chunk("IEND", "");
    if (!f) die("cannot write " + out);
}

int main(int argc, char **argv) {
    if (argc < 3) die("usage: see the comment at the top of tools/make_documents.cpp");
    std::string cmd = argv[1], out = argv[2];
    if (cmd == "pdf" && argc == 4)
        make_pdf(out, argv[3]);
    else if (cmd == "docx" && argc == 4)
        make_docx(out, argv[3]);
    else if (cmd == "zip")
        make_zip(out, argc - 3, argv + 3);
    else if (cmd == "many" && argc == 4)
        make_many(out, std::atol(argv[3]));
    else if (cmd == "scan" && argc >= 6)
        make_scan(out, std::atof(argv[3]), std::atof(argv[4]), argc - 5, argv + 5);
    else if (cmd == "blankpdf" && argc == 6)
        make_blank_pdf(out, std::atol(argv[3]), std::atof(argv[4]), std::atof(argv[5]));
    else if (cmd == "pngbomb" && argc == 5)
        make_png_bomb(out, std::strtoul(argv[3], nullptr, 10), std::strtoul(argv[4], nullptr, 10));
    else if (cmd == "random" && argc == 5)
        make_random(out, std::atol(argv[3]), std::strtoull(argv[4], nullptr, 10));
    else
        die("usage: see the comment at the top of tools/make_documents.cpp");
    return 0;
}
