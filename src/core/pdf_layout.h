// Reading order of a page from its positioned words: columns (a sidebar, a two-column body) are
// read one after the other, a table's rows stay rows. Plain geometry, no poppler: pdf_text.cpp
// feeds it poppler's words, the unit tests feed it made-up ones.
#pragma once
#include "no_postgres.h"

#include <string>
#include <vector>

namespace rp {

// One word as the PDF draws it: its box in points, top-left origin, y growing down.
struct PageWord {
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    std::string text;         // UTF-8
    bool space_after = false;  // the PDF put a space (or a gap) after it
    bool upright = true;       // horizontal, left to right; other words are read after the layout
};

// The page's text: lines separated by '\n', a blank line between blocks and between columns.
// Words must come in the extractor's reading order (words of one text line consecutive).
// Pieces of one row that stand far apart ("Acme Corp        2019 – 2021") are lines of their own.
std::string layout_page_text(const std::vector<PageWord> &words);

}  // namespace rp
