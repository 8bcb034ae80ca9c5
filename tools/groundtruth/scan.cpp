// Makes a "scan" of rendered pages for the generated ground truth (generate.js runs it): each
// page image (a PGM from pdftoppm) is turned to 8-bit grey, rotated by a small angle, given a
// paper tone, uneven lighting, Gaussian noise and specks, and written as an image-only PDF (no
// text layer), a PNG or a JPEG. Leptonica only (the core already depends on it through
// Tesseract). Usage:
//   gt_scan --out FILE --format pdf|png|jpeg --dpi D --angle DEGREES --noise SIGMA --seed N
//           [--quality Q] [--gradient G] page.pgm...
// png and jpeg take the first page only (a photo is one page). The same arguments give the same
// bytes on every run.
#include <leptonica/allheaders.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

// splitmix64: a small seeded source for the noise, the same on every machine.
struct Random {
    uint64_t s;
    uint64_t next() {
        uint64_t z = (s += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }
    double gauss() {  // Box-Muller
        double u = uniform(), v = uniform();
        if (u < 1e-12) u = 1e-12;
        return std::sqrt(-2.0 * std::log(u)) * std::cos(6.283185307179586 * v);
    }
};

int usage() {
    std::fprintf(stderr,
                 "usage: gt_scan --out FILE --format pdf|png|jpeg --dpi D --angle DEGREES --noise SIGMA --seed N "
                 "[--quality Q] [--gradient G] page.pgm...\n");
    return 2;
}

// Paper tone, lighting that falls off across the page (a photo), noise and specks, in place.
void degrade(PIX *pix, double noise, double gradient, Random &rnd) {
    const int w = pixGetWidth(pix), h = pixGetHeight(pix), wpl = pixGetWpl(pix);
    l_uint32 *data = pixGetData(pix);
    const double paper = 232 + 16 * rnd.uniform(), ink = 20 + 30 * rnd.uniform();
    const double gx = rnd.uniform() - 0.5, gy = rnd.uniform() - 0.5;
    const double speck_rate = 0.0004 + 0.0008 * rnd.uniform();
    for (int y = 0; y < h; ++y) {
        l_uint32 *line = data + static_cast<size_t>(y) * wpl;
        for (int x = 0; x < w; ++x) {
            double v = GET_DATA_BYTE(line, x) / 255.0;  // 1 = white paper, 0 = ink
            double light = 1.0 - gradient * (0.5 + gx * x / w + gy * y / h);
            double out = (ink + v * (paper - ink)) * light + noise * rnd.gauss();
            if (rnd.uniform() < speck_rate) out = rnd.uniform() < 0.7 ? ink + 40 * rnd.uniform() : 255;
            SET_DATA_BYTE(line, x, static_cast<int>(std::lround(std::fmin(255.0, std::fmax(0.0, out)))));
        }
    }
}

}  // namespace

int main(int argc, char **argv) {
    std::string out, format = "pdf";
    int dpi = 150, quality = 80;
    double angle = 1.0, noise = 10.0, gradient = 0.0;
    uint64_t seed = 1;
    std::vector<std::string> pages;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const bool has_value = i + 1 < argc;
        if (a == "--out" && has_value)
            out = argv[++i];
        else if (a == "--format" && has_value)
            format = argv[++i];
        else if (a == "--dpi" && has_value)
            dpi = std::atoi(argv[++i]);
        else if (a == "--angle" && has_value)
            angle = std::atof(argv[++i]);
        else if (a == "--noise" && has_value)
            noise = std::atof(argv[++i]);
        else if (a == "--gradient" && has_value)
            gradient = std::atof(argv[++i]);
        else if (a == "--quality" && has_value)
            quality = std::atoi(argv[++i]);
        else if (a == "--seed" && has_value)
            seed = std::strtoull(argv[++i], nullptr, 10);
        else if (a.rfind("--", 0) == 0)
            return usage();
        else
            pages.push_back(a);
    }
    if (out.empty() || pages.empty() || dpi <= 0 || (format != "pdf" && format != "png" && format != "jpeg"))
        return usage();
    setMsgSeverity(L_SEVERITY_ERROR);
    Random rnd{seed};
    if (format != "pdf") pages.resize(1);
    PIXA *pixa = pixaCreate(static_cast<l_int32>(pages.size()));
    for (const auto &p : pages) {
        PIX *src = pixRead(p.c_str());
        if (!src) {
            std::fprintf(stderr, "gt_scan: cannot read %s\n", p.c_str());
            return 1;
        }
        PIX *gray = pixConvertTo8(src, 0);
        pixDestroy(&src);
        // A page is never put down quite straight: each its own angle around the one asked for.
        const double deg = angle + 0.3 * (rnd.uniform() - 0.5);
        PIX *rotated = pixRotate(gray, static_cast<l_float32>(deg * 3.14159265358979 / 180.0), L_ROTATE_AREA_MAP,
                                 L_BRING_IN_WHITE, 0, 0);
        pixDestroy(&gray);
        if (!rotated) return 1;
        PIX *page = pixConvertTo8(rotated, 0);  // the rotation keeps 8 bpp; this drops a colormap if any
        pixDestroy(&rotated);
        degrade(page, noise, gradient, rnd);
        pixSetResolution(page, dpi, dpi);
        pixaAddPix(pixa, page, L_INSERT);
    }
    int rc = 0;
    if (format == "pdf")
        rc = pixaConvertToPdf(pixa, dpi, 1.0, L_JPEG_ENCODE, quality, "scan", out.c_str());
    else {
        PIX *page = pixaGetPix(pixa, 0, L_CLONE);
        rc = format == "png" ? pixWrite(out.c_str(), page, IFF_PNG) : pixWriteJpeg(out.c_str(), page, quality, 0);
        pixDestroy(&page);
    }
    pixaDestroy(&pixa);
    if (rc != 0) std::fprintf(stderr, "gt_scan: cannot write %s\n", out.c_str());
    return rc == 0 ? 0 : 1;
}
