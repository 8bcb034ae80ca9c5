// OCR of scans and photos with Tesseract (LSTM engine, English, German, French and Spanish data
// where installed). Untrusted images are the classic decompression bomb: a few hundred bytes of
// PNG can declare 100000 × 100000 pixels (40 GB once decoded), so every image's dimensions are
// read from its header first (Leptonica's pixReadHeaderMem, one TIFF directory at a time) and a
// page over resume_pipeline.ocr_max_pixels is a limit error before anything is decoded. The
// caller checks a PDF page's size × DPI the same way before poppler renders it (check_ocr_pixels
// and ocr_data_dir, which need no Tesseract, are in ocr_limits.cpp).
//
// Tesseract parallelises with OpenMP; the parser starts with OMP_THREAD_LIMIT=1 (a document
// process may not create threads), so all of this runs on the calling thread.
#include "ocr.h"

#include <leptonica/allheaders.h>
#include <sys/stat.h>
#include <tesseract/baseapi.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <vector>

#include "document_error.h"
#include "utf8_text.h"

namespace rp {

struct OcrEngine::State {
    tesseract::TessBaseAPI api;
    bool loaded = false;
};

namespace {

// Languages read together, the first the main one; those whose data is missing are left out.
constexpr const char *kLanguages[] = {"eng", "deu", "fra", "spa"};

std::string installed_languages() {
    std::string langs;
    for (const char *lang : kLanguages) {
        struct stat st {};
        std::string path = std::string(ocr_data_dir()) + "/" + lang + ".traineddata";
        if (stat(path.c_str(), &st) != 0) continue;
        if (!langs.empty()) langs += '+';
        langs += lang;
    }
    return langs;
}

bool read_data_file(const char *path, std::vector<char> *data) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    data->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return !in.bad();
}

void load(OcrEngine::State &s) {
    if (s.loaded) return;
    const std::string langs = installed_languages();
    if (langs.empty())
        throw DocumentError(ErrorKind::Unsupported, "OCR is not available: no Tesseract language data is installed",
                            std::string("Install tesseract-ocr-eng (data in ") + ocr_data_dir() + ").");
    // With a reader of our own Tesseract reads plain files, not through libarchive (whose fcntl
    // calls the sandbox's filter does not allow); data_size 0 makes the first argument the path.
    if (s.api.Init(ocr_data_dir(), 0, langs.c_str(), tesseract::OEM_LSTM_ONLY, nullptr, 0, nullptr, nullptr, false,
                   &read_data_file) != 0)
        throw std::runtime_error("Tesseract could not load its language data (" + langs + ")");
    // Columns, headings and side bars: let Tesseract find the blocks (its command line's default).
    s.api.SetPageSegMode(tesseract::PSM_AUTO);
    s.loaded = true;
}

// Tesseract's text of the image set last, as clean UTF-8.
std::string recognise(OcrEngine::State &s) {
    std::unique_ptr<char[]> text(s.api.GetUTF8Text());
    s.api.Clear();
    if (!text) return {};
    std::string out = sanitize_utf8(text.get());
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

struct PixFree {
    void operator()(Pix *p) const { pixDestroy(&p); }
};
using PixPtr = std::unique_ptr<Pix, PixFree>;

const char *image_name(int format) {
    if (format == IFF_PNG) return "PNG image";
    if (format == IFF_JFIF_JPEG) return "JPEG image";
    return "TIFF image";
}

}  // namespace

OcrEngine::OcrEngine() : state_(new State) {}
OcrEngine::~OcrEngine() = default;

std::string OcrEngine::read_gray(const unsigned char *pixels, int width, int height, int bytes_per_line, int dpi) {
    load(*state_);
    state_->api.SetImage(pixels, width, height, 1, bytes_per_line);
    state_->api.SetSourceResolution(dpi);
    return recognise(*state_);
}

std::string OcrEngine::read_pix(Pix *pix) {
    load(*state_);
    state_->api.SetImage(pix);
    // Without a plausible declared resolution (photos) Tesseract estimates one from the text.
    const l_int32 res = pixGetXRes(pix);
    if (res >= 70 && res <= 2400) state_->api.SetSourceResolution(res);
    return recognise(*state_);
}

std::string ocr_image(const char *data, size_t len, const Limits &limits) {
    check_document_size(len, limits, "image");
    const auto *bytes = reinterpret_cast<const l_uint8 *>(data);
    l_int32 format = IFF_UNKNOWN;
    if (len < 12 || findFileFormatBuffer(bytes, &format) != 0 ||
        (format != IFF_PNG && format != IFF_JFIF_JPEG && !L_FORMAT_IS_TIFF(format)))
        throw DocumentError(ErrorKind::Corrupt, "image is damaged or truncated: its header cannot be read");
    const std::string name = image_name(format);
    if (!limits.ocr)
        throw DocumentError(ErrorKind::Unsupported,
                            "unsupported document: found a " + name + ", and reading images needs OCR, which is off",
                            "Set resume_pipeline.ocr = on to read scans and photos.");
    const bool tiff = L_FORMAT_IS_TIFF(format);

    // Every page's dimensions before any is decoded; a TIFF's directories one by one, stopping
    // one past the page cap.
    int pages = 0;
    for (;; pages++) {
        l_int32 w = 0, h = 0, bps = 0, spp = 0, res = 0, cmap = 0, fmt = 0;
        const bool ok = tiff ? readHeaderMemTiff(bytes, len, pages, &w, &h, &bps, &spp, &res, &cmap, &fmt) == 0
                             : pixReadHeaderMem(bytes, len, &fmt, &w, &h, &bps, &spp, &cmap) == 0;
        if (!ok) break;
        if (w <= 0 || h <= 0)
            throw DocumentError(ErrorKind::Corrupt, "the " + name + " declares an empty or negative size");
        check_ocr_pixels(w, h, limits, tiff ? "page " + std::to_string(pages + 1) + " of the " + name : "the " + name);
        if (static_cast<uint64_t>(pages) + 1 > limits.ocr_max_pages)
            throw DocumentError(ErrorKind::Limit, "the " + name +
                                                      " has more pages than resume_pipeline.ocr_max_pages (" +
                                                      std::to_string(limits.ocr_max_pages) + ")");
        if (!tiff) {
            pages = 1;
            break;
        }
    }
    if (pages == 0) throw DocumentError(ErrorKind::Corrupt, "the " + name + " is damaged or truncated");

    OcrEngine engine;
    std::string out;
    for (int i = 0; i < pages; i++) {
        PixPtr pix(tiff ? pixReadMemTiff(bytes, len, i) : pixReadMem(bytes, len));
        if (!pix)
            throw DocumentError(ErrorKind::Corrupt,
                                "the " + name + (tiff ? " (page " + std::to_string(i + 1) + ")" : std::string()) +
                                    " is damaged or truncated and cannot be decoded");
        if (i > 0) out += '\f';
        out += engine.read_pix(pix.get());
    }
    if (limits.ocr_report) limits.ocr_report->images++;
    return out;
}

}  // namespace rp
