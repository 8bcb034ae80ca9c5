// Reading order from positioned words (src/core/pdf_layout.cpp), on pages made up here.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../../src/core/pdf_layout.h"

namespace {

using rp::PageWord;

// Lays the words of `text` out from (x, y) at a 10 pt font: 12 pt tall boxes, 5.5 pt per
// character, 3 pt spaces.
void put(std::vector<PageWord> &page, double x, double y, const std::string &text, double size = 10) {
    const double h = 1.2 * size, ch = 0.55 * size, space = 0.3 * size;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        const std::string word = text.substr(start, end - start);
        PageWord w;
        w.x0 = x;
        w.x1 = x + ch * static_cast<double>(word.size());
        w.y0 = y;
        w.y1 = y + h;
        w.text = word;
        w.space_after = end < text.size();
        page.push_back(w);
        x = w.x1 + space;
        start = end + 1;
    }
}

size_t at(const std::string &s, const std::string &what) {
    const size_t p = s.find(what);
    EXPECT_NE(p, std::string::npos) << what << " not in:\n" << s;
    return p;
}

TEST(PdfLayout, ReadsASidebarAndTheMainColumnOneAfterTheOther) {
    std::vector<PageWord> page;
    put(page, 40, 20, "Jane Q. Doe", 20);
    // A sidebar at the left (x 40..150) and the main column at the right (x 200..), lines 14 pt
    // apart, starting at different heights so no row lines up by chance.
    const char *side[] = {"CONTACT", "jane@example.org", "+1 555 0100", "Springfield", "", "SKILLS", "Go", "SQL"};
    const char *main_col[] = {"EXPERIENCE", "Acme Corporation", "Senior Engineer, 2019 - 2021",
                              "Built the billing pipeline", "Led a team of five", "Globex Inc.", "Engineer, 2015 - 2019",
                              "Migrated monthly reporting"};
    double y = 80;
    for (const char *l : side) {
        if (*l) put(page, 40, y, l);
        y += 14;
    }
    y = 87;
    for (const char *l : main_col) {
        put(page, 200, y, l);
        y += 17;
    }
    const std::string text = rp::layout_page_text(page);
    EXPECT_LT(at(text, "Jane Q. Doe"), at(text, "CONTACT"));
    EXPECT_LT(at(text, "Springfield"), at(text, "SKILLS"));
    // The whole sidebar, then the whole main column: no sidebar line inside a job.
    EXPECT_LT(at(text, "SQL"), at(text, "EXPERIENCE"));
    EXPECT_NE(text.find("Acme Corporation\nSenior Engineer, 2019 - 2021\nBuilt the billing pipeline"), std::string::npos)
        << text;
}

TEST(PdfLayout, ColumnsOnOneLineGridAreStillColumns) {
    // Main column and sidebar in one font on one 12 pt grid: every sidebar line is level with a
    // main line, but the sidebar's blocks (sections) start where the main column has none.
    std::vector<PageWord> page;
    const char *main_col[] = {"WORK EXPERIENCE", "2022 - 2023", "Head of Engineering", "Helix Security",
                              "Built the checkout flow", "Automated budget reviews", "Led a team of five",
                              "2019 - 2022", "Graphic Designer", "CinderHub", "Migrated the reports",
                              "Reduced the on-call load", "Designed contracts", "Improved the pipeline"};
    const char *side[] = {"CONTACT", "7 Mill Lane, London", "tyler@example.org", "+44 20 8923 0378", "", "",
                          "EDUCATION", "Imperial College London", "B.Sc., Economics", "2016 - 2020", "", "SKILLS",
                          "Go, TypeScript", "Docker, GCP"};
    for (int i = 0; i < 14; i++) {
        put(page, 27, 74 + 12.0 * i, main_col[i]);
        if (*side[i]) put(page, 400, 74 + 12.0 * i, side[i]);
    }
    const std::string text = rp::layout_page_text(page);
    EXPECT_NE(text.find("2022 - 2023\nHead of Engineering\nHelix Security\nBuilt the checkout flow"), std::string::npos)
        << text;
    EXPECT_NE(text.find("EDUCATION\nImperial College London\nB.Sc., Economics"), std::string::npos) << text;
}

TEST(PdfLayout, KeepsTheRowsOfATable) {
    // Dates in a left column beside each entry's title: read row by row, not as two columns.
    std::vector<PageWord> page;
    const double ys[] = {100, 160, 220, 280};
    const char *dates[] = {"2019 - 2021", "2016 - 2019", "2012 - 2016", "2010 - 2012"};
    const char *titles[] = {"Acme Corporation", "Globex Inc.", "Initech GmbH", "Umbrella Labs"};
    for (int i = 0; i < 4; i++) {
        put(page, 40, ys[i], dates[i]);
        put(page, 150, ys[i], titles[i]);
        put(page, 150, ys[i] + 14, "Engineer");
        put(page, 150, ys[i] + 28, "Shipped things that mattered");
    }
    const std::string text = rp::layout_page_text(page);
    for (int i = 0; i < 4; i++)
        EXPECT_NE(text.find(std::string(dates[i]) + "\n" + titles[i]), std::string::npos) << text;
}

TEST(PdfLayout, ReadsASectionLabelBeforeItsSection) {
    // Large labels in a narrow left column, each level with its section's first line.
    std::vector<PageWord> page;
    put(page, 40, 96, "Work", 18);
    put(page, 140, 100, "Acme Corporation");
    for (int i = 1; i <= 5; i++) put(page, 140, 100 + 14 * i, "Did a thing worth mentioning");
    put(page, 40, 216, "Education", 18);
    put(page, 140, 220, "University of Springfield");
    for (int i = 1; i <= 3; i++) put(page, 140, 220 + 14 * i, "Studied");
    put(page, 40, 296, "Skills", 18);
    put(page, 140, 300, "Go, SQL");
    const std::string text = rp::layout_page_text(page);
    EXPECT_LT(at(text, "Work"), at(text, "Acme Corporation"));
    EXPECT_LT(at(text, "Acme Corporation"), at(text, "Education"));
    EXPECT_LT(at(text, "Education"), at(text, "University of Springfield"));
    EXPECT_LT(at(text, "University of Springfield"), at(text, "Skills"));
}

TEST(PdfLayout, JoinsOneLineAndSeparatesADistantDate) {
    std::vector<PageWord> page;
    put(page, 40, 100, "Acme Corporation");
    put(page, 400, 100, "2019 - 2021");
    put(page, 40, 114, "Jane Doe");
    put(page, 88, 114, "·");
    put(page, 104, 114, "Résumé");
    const std::string text = rp::layout_page_text(page);
    EXPECT_NE(text.find("Acme Corporation\n2019 - 2021"), std::string::npos) << text;
    // One line; the wider gaps may become two spaces, which the parser folds.
    const size_t jane = at(text, "Jane Doe"), resume = at(text, "Résumé");
    EXPECT_EQ(text.find('\n', jane), text.npos) << text;
    EXPECT_LT(jane, resume);
}

TEST(PdfLayout, LetterSpacedWordsKeepAWiderBreak) {
    std::vector<PageWord> page;
    double x = 100;
    for (const char *letter : {"J", "O", "H", "N", "", "D", "O", "E"}) {
        if (!*letter) {
            x += 12;
            continue;
        }
        PageWord w;
        w.x0 = x;
        w.x1 = x + 8;
        w.y0 = 20;
        w.y1 = 36;
        w.text = letter;
        w.space_after = true;
        page.push_back(w);
        x += 15;
    }
    EXPECT_EQ(rp::layout_page_text(page), "J O H N  D O E");
}

TEST(PdfLayout, RightToLeftWordsInReadingOrder) {
    // poppler gives each Arabic word as drawn (letters left to right) and the words left to right.
    std::vector<PageWord> page;
    PageWord a, b;
    a.x0 = 100, a.x1 = 130, a.y0 = 20, a.y1 = 32, a.text = "\u064A\u0628\u064A\u062A\u0639\u0644\u0627";  // العتيبي drawn
    a.space_after = true;
    b.x0 = 133, b.x1 = 160, b.y0 = 20, b.y1 = 32, b.text = "\u0629\u0645\u0637\u0627\u0641";  // فاطمة drawn
    page.push_back(a);
    page.push_back(b);
    EXPECT_EQ(rp::layout_page_text(page), "\u0641\u0627\u0637\u0645\u0629 \u0627\u0644\u0639\u062A\u064A\u0628\u064A");
}

TEST(PdfLayout, RotatedWordsComeLast) {
    std::vector<PageWord> page;
    put(page, 40, 100, "Acme Corporation");
    PageWord side;
    side.x0 = 5, side.x1 = 17, side.y0 = 100, side.y1 = 300, side.text = "CONFIDENTIAL", side.upright = false;
    page.push_back(side);
    EXPECT_EQ(rp::layout_page_text(page), "Acme Corporation\n\nCONFIDENTIAL");
}

TEST(PdfLayout, ManyPiecesAreReadRowByRowQuickly) {
    // A page of 40 000 numbers (a hostile or tabular file) skips column analysis.
    std::vector<PageWord> page;
    for (int r = 0; r < 400; r++)
        for (int c = 0; c < 100; c++) put(page, 10 + 30.0 * c, 10 + 14.0 * r, "1");
    const std::string text = rp::layout_page_text(page);
    EXPECT_GT(text.size(), 40000u);
}

}  // namespace
