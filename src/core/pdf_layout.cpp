#include "pdf_layout.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace rp {
namespace {

// A run of words on one baseline with no wide gap: what a reader sees as one piece of a line.
struct Segment {
    double x0, y0, x1, y1;
    std::string text;
    double height() const { return y1 - y0; }
    double center_y() const { return (y0 + y1) / 2; }
};

// Column analysis costs O(n² log n) per level; a page with more pieces than this (a table of
// numbers, a hostile file) is read row by row instead.
constexpr size_t kMaxSegmentsForColumns = 800;
constexpr int kMaxDepth = 12;

// Right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, NKo; their presentation forms).
bool is_rtl(char32_t c) {
    return (c >= 0x0590 && c <= 0x08FF) || (c >= 0xFB1D && c <= 0xFDFF) || (c >= 0xFE70 && c <= 0xFEFF);
}
// Marks that belong to the letter before them (Hebrew points, Arabic harakat).
bool is_rtl_mark(char32_t c) {
    return (c >= 0x0591 && c <= 0x05C7) || (c >= 0x0610 && c <= 0x061A) || (c >= 0x064B && c <= 0x065F) ||
           c == 0x0670 || (c >= 0x06D6 && c <= 0x06ED);
}

// Splits valid UTF-8 (poppler's, sanitised) into code points with their byte spans.
std::vector<std::pair<char32_t, std::string>> code_points(const std::string &s) {
    std::vector<std::pair<char32_t, std::string>> out;
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        const size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        char32_t cp = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
        for (size_t k = 1; k < n && i + k < s.size(); k++) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
        out.push_back({cp, s.substr(i, n)});
        i += n;
    }
    return out;
}

// poppler gives a right-to-left word as drawn, its letters left to right; a word of an RTL script
// and no Latin letters or digits is turned back into reading order (marks stay after their letter).
bool to_reading_order(std::string &word) {
    const auto cps = code_points(word);
    bool rtl = false;
    for (const auto &cp : cps) {
        if (cp.first < 0x80 && std::isalnum(static_cast<int>(cp.first))) return false;
        rtl = rtl || is_rtl(cp.first);
    }
    if (!rtl) return false;
    std::string out;
    for (size_t end = cps.size(); end > 0;) {
        size_t start = end - 1;
        // A run of marks drawn before (left of) their letter in visual order comes after it.
        while (start > 0 && is_rtl_mark(cps[start].first)) start--;
        for (size_t k = start; k < end; k++) out += cps[k].second;
        end = start;
    }
    word = std::move(out);
    return true;
}

std::vector<Segment> make_segments(const std::vector<PageWord> &words) {
    std::vector<Segment> out;
    std::vector<std::vector<const PageWord *>> members;
    const PageWord *prev = nullptr;
    for (const PageWord &w : words) {
        if (!w.upright || w.text.empty() || !(w.x1 >= w.x0) || !(w.y1 >= w.y0)) continue;
        const double h = std::max(w.y1 - w.y0, 1.0);
        bool join = false;
        if (prev && !out.empty()) {
            const double ph = std::max(prev->y1 - prev->y0, 1.0);
            const double gap = w.x0 - prev->x1;
            // Same baseline, or a superscript/subscript within the previous word's height ("1st").
            const double overlap = std::min(w.y1, prev->y1) - std::max(w.y0, prev->y0);
            const bool same_line =
                std::fabs(w.y1 - prev->y1) <= 0.35 * std::min(h, ph) || overlap >= 0.6 * std::min(h, ph);
            // A gap wider than half a letter-height is a column gutter or a tab stop, not a space.
            join = same_line && gap > -0.5 * h && gap <= 0.5 * std::max(h, ph);
        }
        if (join) {
            Segment &s = out.back();
            s.x1 = std::max(s.x1, w.x1);
            s.y0 = std::min(s.y0, w.y0);
            s.y1 = std::max(s.y1, w.y1);
            members.back().push_back(&w);
        } else {
            out.push_back(Segment{w.x0, w.y0, w.x1, w.y1, std::string()});
            members.push_back({&w});
        }
        prev = &w;
    }
    // The text of each piece: words left to right, except that a run of right-to-left words is
    // read right to left.
    for (size_t i = 0; i < out.size(); i++) {
        const auto &m = members[i];
        std::vector<std::string> texts;
        std::vector<bool> rtl;
        for (const PageWord *w : m) {
            texts.push_back(w->text);
            rtl.push_back(to_reading_order(texts.back()));
        }
        std::vector<size_t> order(m.size());
        for (size_t k = 0; k < m.size(); k++) order[k] = k;
        for (size_t k = 0; k < m.size();) {
            size_t e = k;
            while (e < m.size() && rtl[e]) e++;
            if (e > k + 1) std::reverse(order.begin() + k, order.begin() + e);
            k = e == k ? k + 1 : e;
        }
        std::string &text = out[i].text;
        for (size_t k = 0; k < order.size(); k++) {
            if (k > 0) {
                // The space belongs between visual neighbours; either word of the pair may say so.
                const PageWord *a = m[std::min(order[k - 1], order[k])], *b = m[std::max(order[k - 1], order[k])];
                if (a->space_after || b->x0 - a->x1 > 0.15 * std::max(a->y1 - a->y0, 1.0)) text += ' ';
            }
            text += texts[order[k]];
        }
    }
    return out;
}

double median_height(const std::vector<Segment> &segs, const std::vector<size_t> &idx) {
    std::vector<double> h;
    h.reserve(idx.size());
    for (size_t i : idx) h.push_back(segs[i].height());
    if (h.empty()) return 10;
    std::nth_element(h.begin(), h.begin() + h.size() / 2, h.end());
    return std::max(h[h.size() / 2], 1.0);
}

struct Split {
    std::vector<size_t> above, left, right, below;
    double score = 0;
    bool right_first = false;
};

// Two pieces sit on one row when their baselines or their tops line up.
bool same_row(const Segment &a, const Segment &b) {
    const double tol = 0.25 * std::min(a.height(), b.height()) + 0.5;
    return std::fabs(a.y1 - b.y1) <= tol || std::fabs(a.y0 - b.y0) <= tol;
}

// The first piece of each block of one side: pieces stacked at ordinary leading form a block, a
// wider gap starts the next.
std::vector<size_t> block_starts(const std::vector<Segment> &segs, std::vector<size_t> side) {
    std::sort(side.begin(), side.end(), [&](size_t a, size_t b) { return segs[a].y0 < segs[b].y0; });
    std::vector<size_t> starts;
    double bottom = -1e300, height = 0;
    for (size_t i : side) {
        const Segment &s = segs[i];
        if (s.y0 - bottom > 0.6 * std::min(height, s.height())) starts.push_back(i);
        if (s.y1 > bottom) {
            bottom = s.y1;
            height = s.height();
        }
    }
    return starts;
}

// Share of `side`'s pieces that sit on the row of a piece of `other`.
double row_paired(const std::vector<Segment> &segs, const std::vector<size_t> &side, const std::vector<size_t> &other) {
    size_t paired = 0;
    for (size_t i : side)
        for (size_t j : other)
            if (same_row(segs[i], segs[j])) {
                paired++;
                break;
            }
    return side.empty() ? 0 : static_cast<double>(paired) / static_cast<double>(side.size());
}

// A table's cells start together. Either each piece of the narrow side is level with a line of
// the other and its blocks are short (a date or a place beside each entry's title), or its
// blocks start where blocks of the other side start (profile cards side by side). Two independent
// columns start their blocks (sections, entries) wherever their own text puts them, even when
// both follow one line grid.
bool looks_like_table(const std::vector<Segment> &segs, const std::vector<size_t> &narrow,
                      const std::vector<size_t> &wide) {
    const std::vector<size_t> ns = block_starts(segs, narrow), ws = block_starts(segs, wide);
    if (row_paired(segs, narrow, wide) >= 0.6 && narrow.size() * 10 < ns.size() * 22) return true;
    return ns.size() >= 2 && row_paired(segs, ns, ws) >= 0.6;
}

// A column of text has lines stacked at ordinary leading (an address, a list of skills, a
// paragraph). Labels beside their sections ("Work", "Education") or one date beside each entry
// stand apart from each other, and are read with their rows instead.
bool looks_like_running_text(const std::vector<Segment> &segs, const std::vector<size_t> &side) {
    size_t stacked = 0;
    for (size_t i : side) {
        const Segment &a = segs[i];
        for (size_t j : side) {
            if (i == j) continue;
            const Segment &b = segs[j];
            const double lead = 0.6 * std::min(a.height(), b.height());
            const bool below = b.y0 >= a.center_y() && b.y0 - a.y1 <= lead;
            const bool above = a.y0 >= b.center_y() && a.y0 - b.y1 <= lead;
            if (below || above) {
                stacked++;
                break;
            }
        }
    }
    return stacked * 2 >= side.size();
}

// The best vertical gutter in the region: an x band no piece crosses over a tall stretch, with
// pieces of running text on both sides. Returns false when the region has no such gutter.
bool find_column_split(const std::vector<Segment> &segs, const std::vector<size_t> &region, Split &best) {
    if (region.size() < 4 || region.size() > kMaxSegmentsForColumns) return false;
    const double lh = median_height(segs, region);
    const double gutter = std::max(0.55 * lh, 5.0);
    std::vector<double> candidates;
    for (size_t i : region) candidates.push_back(segs[i].x1);
    std::sort(candidates.begin(), candidates.end());
    double last = -1e300;
    bool found = false;
    std::vector<std::pair<double, double>> blocked;
    for (double b : candidates) {
        if (b - last < 1.0) continue;
        last = b;
        // Vertical stretches crossed by a piece spanning [b, b + gutter].
        blocked.clear();
        for (size_t i : region) {
            const Segment &s = segs[i];
            if (s.x0 < b + gutter && s.x1 > b + 0.01) blocked.push_back({s.y0, s.y1});
        }
        std::sort(blocked.begin(), blocked.end());
        // The free stretches between blocked ones (and above the first, below the last).
        std::vector<std::pair<double, double>> free;
        double top = -1e300;
        for (const auto &iv : blocked) {
            if (iv.first > top) free.push_back({top, iv.first});
            top = std::max(top, iv.second);
        }
        free.push_back({top, 1e300});
        for (const auto &f : free) {
            std::vector<size_t> left, right;
            double ltop = 1e300, lbot = -1e300, rtop = 1e300, rbot = -1e300;
            for (size_t i : region) {
                const Segment &s = segs[i];
                const double c = s.center_y();
                if (c < f.first || c > f.second) continue;
                if (s.x1 <= b + 0.01) {
                    left.push_back(i);
                    ltop = std::min(ltop, s.y0);
                    lbot = std::max(lbot, s.y1);
                } else {
                    right.push_back(i);
                    rtop = std::min(rtop, s.y0);
                    rbot = std::max(rbot, s.y1);
                }
            }
            if (left.size() < 3 || right.size() < 3) continue;
            const double score = std::min(lbot - ltop, rbot - rtop);
            if (score < 3.5 * lh || score <= best.score) continue;
            const bool left_narrow = left.size() <= right.size();
            const std::vector<size_t> &narrow = left_narrow ? left : right;
            const std::vector<size_t> &wide = left_narrow ? right : left;
            if (looks_like_table(segs, narrow, wide) || !looks_like_running_text(segs, narrow)) continue;
            // A short block beside the top of a long column (contact lines at the right of the
            // name) is read first; otherwise the column that starts higher (a name atop a
            // sidebar), else the left one.
            const double lext = lbot - ltop, rext = rbot - rtop;
            if (rext < 0.5 * lext && rtop < ltop + 2 * lh)
                best.right_first = true;
            else if (lext < 0.5 * rext && ltop < rtop + 2 * lh)
                best.right_first = false;
            else
                best.right_first = rtop < ltop - lh;
            best.score = score;
            best.left = std::move(left);
            best.right = std::move(right);
            best.above.clear();
            best.below.clear();
            for (size_t i : region) {
                const double c = segs[i].center_y();
                if (c < f.first)
                    best.above.push_back(i);
                else if (c > f.second)
                    best.below.push_back(i);
            }
            found = true;
        }
    }
    return found;
}

void append_block(std::string &out, const std::string &block) {
    if (block.empty()) return;
    if (!out.empty()) out += "\n\n";
    out += block;
}

// Two pieces of a row are one line of text ("Jane Doe  ·  Résumé") when they share a baseline and
// a size and stand less than about a letter-height apart; otherwise each is a line of its own: a
// label beside its section, a date at the far end of a title.
bool spaced_apart(const Segment &a, const Segment &b) {
    const double ha = a.height(), hb = b.height();
    const double h = std::min(ha, hb);
    if (std::max(ha, hb) > 1.15 * h) return true;
    if (std::fabs(a.y1 - b.y1) > 0.15 * h) return true;
    return b.x0 - a.x1 > 1.2 * h;
}

// Rows top to bottom, pieces of a row left to right joined by a tab, a blank line where the gap
// between rows is wider than ordinary leading.
std::string rows_text(const std::vector<Segment> &segs, std::vector<size_t> region) {
    std::sort(region.begin(), region.end(), [&](size_t a, size_t b) {
        if (segs[a].center_y() != segs[b].center_y()) return segs[a].center_y() < segs[b].center_y();
        return segs[a].x0 < segs[b].x0;
    });
    std::vector<std::vector<size_t>> rows;
    for (size_t i : region) {
        if (!rows.empty()) {
            // Pieces whose vertical middles fall within each other's boxes: a label beside its
            // first line, a date beside a title in a larger font.
            const Segment &first = segs[rows.back().front()];
            const Segment &s = segs[i];
            const double overlap = std::min(first.y1, s.y1) - std::max(first.y0, s.y0);
            if (same_row(first, s) || overlap >= 0.6 * std::min(first.height(), s.height())) {
                rows.back().push_back(i);
                continue;
            }
        }
        rows.push_back({i});
    }
    std::string out;
    double prev_bottom = 0, prev_height = 0;
    for (size_t r = 0; r < rows.size(); r++) {
        std::vector<size_t> &row = rows[r];
        std::sort(row.begin(), row.end(), [&](size_t a, size_t b) { return segs[a].x0 < segs[b].x0; });
        double top = 1e300, bottom = -1e300;
        for (size_t i : row) {
            top = std::min(top, segs[i].y0);
            bottom = std::max(bottom, segs[i].y1);
        }
        if (r > 0) out += top - prev_bottom > 0.7 * prev_height ? "\n\n" : "\n";
        for (size_t k = 0; k < row.size(); k++) {
            if (k > 0) {
                const Segment &a = segs[row[k - 1]], &b = segs[row[k]];
                // Wider than a space: the word break of letter-spaced text ("J O H N  D O E").
                out += spaced_apart(a, b) ? "\n" : b.x0 - a.x1 > 0.45 * std::min(a.height(), b.height()) ? "  " : " ";
            }
            out += segs[row[k]].text;
        }
        prev_bottom = bottom;
        prev_height = bottom - top;
    }
    return out;
}

std::string layout_region(const std::vector<Segment> &segs, const std::vector<size_t> &region, int depth) {
    Split split;
    if (depth >= kMaxDepth || !find_column_split(segs, region, split)) return rows_text(segs, region);
    std::string out;
    append_block(out, layout_region(segs, split.above, depth + 1));
    const std::vector<size_t> &first = split.right_first ? split.right : split.left;
    const std::vector<size_t> &second = split.right_first ? split.left : split.right;
    append_block(out, layout_region(segs, first, depth + 1));
    append_block(out, layout_region(segs, second, depth + 1));
    append_block(out, layout_region(segs, split.below, depth + 1));
    return out;
}

}  // namespace

std::string layout_page_text(const std::vector<PageWord> &words) {
    const std::vector<Segment> segs = make_segments(words);
    std::vector<size_t> all(segs.size());
    for (size_t i = 0; i < all.size(); i++) all[i] = i;
    std::string out = all.empty() ? std::string() : layout_region(segs, all, 0);
    // Vertical or rotated words (a side label, a watermark) come last, in the extractor's order.
    std::string rest;
    for (const PageWord &w : words) {
        if (w.upright || w.text.empty()) continue;
        if (!rest.empty()) rest += ' ';
        rest += w.text;
    }
    append_block(out, rest);
    return out;
}

}  // namespace rp
