// Unit tests of the built-in résumé parser. Every résumé here is a short synthetic one written
// for the test; each test names the layout or pitfall it protects.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "../../src/core/resume_internal.h"
#include "../../src/core/resume_parser.h"

namespace {

using nlohmann::json;

json parse(const std::string &text) {
    return json::parse(rp::parse_resume_json(text));
}

std::vector<std::string> employers(const json &j) {
    std::vector<std::string> out;
    for (const auto &w : j["work"]) out.push_back(w["name"].get<std::string>());
    return out;
}

std::vector<std::string> schools(const json &j) {
    std::vector<std::string> out;
    for (const auto &e : j["education"]) out.push_back(e["institution"].get<std::string>());
    return out;
}

std::vector<std::string> urls(const json &j) {
    std::vector<std::string> out;
    if (j["basics"]["url"].is_string()) out.push_back(j["basics"]["url"]);
    for (const auto &p : j["basics"]["profiles"]) out.push_back(p["url"]);
    return out;
}

const char *const kPlainResume =
    "Grace Holloway\n"
    "Platform Engineer · Leeds, UK\n"
    "grace.holloway@example.com · +44 113 496 0123 · github.com/gholloway · gracehollo.example.dev\n"
    "\n"
    "PROFILE\n"
    "Platform engineer who likes boring, reliable infrastructure.\n"
    "\n"
    "EXPERIENCE\n"
    "Staff Engineer, Quarry Data Ltd. — April 2020 to present\n"
    "Runs the Kubernetes platform for forty product teams.\n"
    "Platform Engineer, Millstone Analytics — 2016 to 2020\n"
    "Built the deployment pipeline used by every service.\n"
    "\n"
    "EDUCATION\n"
    "University of Sheffield — BSc Computer Science, 2016\n"
    "\n"
    "SKILLS\n"
    "Go, Terraform, Kubernetes, PostgreSQL\n"
    "\n"
    "LANGUAGES\n"
    "English (native), French (B2)\n";

TEST(ResumeParser, PlainResumeGivesContactsEntriesSkillsAndLanguages) {
    const json j = parse(kPlainResume);
    EXPECT_EQ(j["basics"]["name"], "Grace Holloway");
    EXPECT_EQ(j["basics"]["email"], "grace.holloway@example.com");
    EXPECT_EQ(j["basics"]["phone"], "+44 113 496 0123");
    EXPECT_EQ(j["basics"]["url"], "gracehollo.example.dev");
    ASSERT_EQ(j["basics"]["profiles"].size(), 1u);
    EXPECT_EQ(j["basics"]["profiles"][0]["network"], "GitHub");
    EXPECT_EQ(j["basics"]["profiles"][0]["username"], "gholloway");
    EXPECT_EQ(employers(j), (std::vector<std::string>{"Quarry Data Ltd.", "Millstone Analytics"}));
    EXPECT_EQ(j["work"][0]["position"], "Staff Engineer");
    EXPECT_EQ(j["work"][0]["startDate"], "2020-04");
    EXPECT_TRUE(j["work"][0]["endDate"].is_null());
    EXPECT_EQ(j["work"][1]["startDate"], "2016");
    EXPECT_EQ(j["work"][1]["endDate"], "2020");
    EXPECT_EQ(schools(j), std::vector<std::string>{"University of Sheffield"});
    EXPECT_EQ(j["education"][0]["studyType"], "BSc");
    EXPECT_EQ(j["education"][0]["area"], "Computer Science");
    ASSERT_EQ(j["skills"].size(), 1u);
    EXPECT_EQ(j["skills"][0]["keywords"], (json{"Go", "Terraform", "Kubernetes", "PostgreSQL"}));
    ASSERT_EQ(j["languages"].size(), 2u);
    EXPECT_EQ(j["languages"][1]["language"], "French");
    EXPECT_EQ(j["languages"][1]["fluency"], "B2");
}

TEST(ResumeParser, EmptyInputGivesTheFullShapeWithNothingInvented) {
    const json j = parse("");
    for (const char *k : {"name", "email", "phone", "url"}) EXPECT_TRUE(j["basics"][k].is_null()) << k;
    EXPECT_TRUE(j["basics"]["profiles"].is_array());
    EXPECT_TRUE(j["basics"]["profiles"].empty());
    for (const char *k : {"work", "education", "skills", "languages"}) {
        EXPECT_TRUE(j[k].is_array()) << k;
        EXPECT_TRUE(j[k].empty()) << k;
    }
}

TEST(ResumeParser, OrganisationFirstBlocksAcrossLines) {
    const json j = parse(
        "Tomasz Wierzbicki\n"
        "tomasz@example.pl\n"
        "\n"
        "Work Experience\n"
        "Northwind Robotics GmbH\n"
        "Munich, Germany\n"
        "Senior Firmware Engineer\n"
        "Jan. 2021 - Present\n"
        "• Designed the motor controller firmware for three product lines in C and Rust.\n"
        "• Cut boot time from 4 s to 600 ms by reworking the flash layout.\n"
        "\n"
        "Kestrel\n"
        "Gdansk, Poland\n"
        "Embedded Developer\n"
        "Mar. 2017 - Dec. 2020\n"
        "• Wrote drivers for sensors used in agricultural drones and their ground stations.\n");
    EXPECT_EQ(employers(j), (std::vector<std::string>{"Northwind Robotics GmbH", "Kestrel"}));
    EXPECT_EQ(j["work"][0]["position"], "Senior Firmware Engineer");
    EXPECT_EQ(j["work"][0]["startDate"], "2021-01");
    EXPECT_EQ(j["work"][1]["endDate"], "2020-12");
}

TEST(ResumeParser, TitleFirstBlocksAndDatesFirstLines) {
    const json j = parse(
        "Ines Carvalho\n"
        "ines.c@example.pt\n"
        "\n"
        "Experience\n"
        "Data Analyst\n"
        "Lisbon Transit Authority\n"
        "since March 2019\n"
        "Modelled passenger flows for the metro network.\n"
        "\n"
        "2015 – 2019 Research Assistant, Atlantic Ocean Lab, Porto, Portugal\n"
        "Processed buoy data for the coastal monitoring programme of the lab.\n");
    EXPECT_EQ(employers(j), (std::vector<std::string>{"Lisbon Transit Authority", "Atlantic Ocean Lab"}));
}

TEST(ResumeParser, GermanHeadingsAndPipeSeparatedEntries) {
    const json j = parse(
        "Lena Vogel\n"
        "Softwareentwicklerin\n"
        "Telefon: +49 30 12345678\n"
        "E-Mail: lena.vogel@example.de\n"
        "\n"
        "Berufserfahrung\n"
        "Backend-Entwicklerin | Spreewerk Digital GmbH | 03/2019 – heute\n"
        "Entwicklung einer Abrechnungsplattform in Kotlin und PostgreSQL für Stadtwerke.\n"
        "\n"
        "Ausbildung\n"
        "Technische Universität Berlin | M.Sc. Informatik | 2013 – 2018\n"
        "\n"
        "Kenntnisse\n"
        "Sprachen: Kotlin, Java, SQL\n");
    EXPECT_EQ(j["basics"]["name"], "Lena Vogel");
    EXPECT_EQ(j["basics"]["phone"], "+49 30 12345678");
    EXPECT_EQ(employers(j), std::vector<std::string>{"Spreewerk Digital GmbH"});
    EXPECT_EQ(j["work"][0]["startDate"], "2019-03");
    EXPECT_TRUE(j["work"][0]["endDate"].is_null());
    EXPECT_EQ(schools(j), std::vector<std::string>{"Technische Universität Berlin"});
    ASSERT_EQ(j["skills"].size(), 1u);
    EXPECT_EQ(j["skills"][0]["name"], "Sprachen");
}

TEST(ResumeParser, FrenchHeadingsAndSentenceStyleEntries) {
    const json j = parse(
        "Camille Dubreuil\n"
        "camille.dubreuil@example.fr\n"
        "\n"
        "Expérience professionnelle\n"
        "2018–2022\n"
        "Ingénieure logiciel, Société Générale des Eaux, Lyon.\n"
        "Conception d'outils de supervision des réseaux d'eau potable.\n"
        "\n"
        "Formation\n"
        "2013–2018\n"
        "Diplôme d'ingénieur, École Centrale de Lyon.\n"
        "\n"
        "Compétences\n"
        "Python, C++, Qt\n");
    EXPECT_EQ(employers(j), std::vector<std::string>{"Société Générale des Eaux"});
    EXPECT_EQ(schools(j), std::vector<std::string>{"École Centrale de Lyon"});
}

TEST(ResumeParser, IconLettersBeforeContactsAndNameBelowAddress) {
    // Icon fonts extract as stray letters ("T" phone, "B" envelope); the name may follow the address.
    const json j = parse(
        "7 Harbour Road\n"
        "4021 Eastport\n"
        "T +31 (0)20 555 01 23\n"
        "B m.deboer@example.nl\n"
        "\n"
        "Marit de Boer\n"
        "Curious structural engineer\n"
        "Education\n"
        "2010–2015 Master of Science, Delft University of Technology.\n");
    EXPECT_EQ(j["basics"]["name"], "Marit de Boer");
    EXPECT_EQ(j["basics"]["phone"], "+31 (0)20 555 01 23");
    EXPECT_EQ(j["basics"]["email"], "m.deboer@example.nl");
    EXPECT_EQ(schools(j), std::vector<std::string>{"Delft University of Technology"});
}

TEST(ResumeParser, LetterSpacedNameAndContacts) {
    const json j = parse(
        "O L I V E R\n"
        "\n"
        "S T O N E\n"
        "\n"
        "CONTACT\n"
        "o l i v e r . s t o n e @ e x a m p l e . c o m\n"
        "0 7 7 0 0 9 0 0 1 2 3\n"
        "h t t p s : / / g i t h u b . c o m / o s t o n e\n");
    EXPECT_EQ(j["basics"]["name"], "OLIVER STONE");
    EXPECT_EQ(j["basics"]["email"], "oliver.stone@example.com");
    EXPECT_EQ(j["basics"]["phone"], "07700900123");
    EXPECT_EQ(urls(j), std::vector<std::string>{"https://github.com/ostone"});
}

TEST(ResumeParser, LetterSpacedHeadingsAreHeadings) {
    rp::resume::Line line = rp::resume::make_lines("EXPERI ENCE").front();
    ASSERT_TRUE(rp::resume::heading_kind(line).has_value());
    EXPECT_EQ(*rp::resume::heading_kind(line), rp::resume::Section::Work);
    line = rp::resume::make_lines("CO N TA CT").front();
    EXPECT_EQ(*rp::resume::heading_kind(line), rp::resume::Section::Contact);
    line = rp::resume::make_lines("Designed the payment service").front();
    EXPECT_FALSE(rp::resume::heading_kind(line).has_value());
}

TEST(ResumeParser, MailtoAndTelPrefixesAndLabels) {
    const json j = parse(
        "Ravi Menon\n"
        "mailto:ravi.menon@example.in | tel:+91-98450-11223 | homepage: www.ravimenon.example.in\n");
    EXPECT_EQ(j["basics"]["email"], "ravi.menon@example.in");
    EXPECT_EQ(j["basics"]["phone"], "+91-98450-11223");
    EXPECT_EQ(j["basics"]["url"], "www.ravimenon.example.in");
}

TEST(ResumeParser, MaskedPhoneIsNull) {
    const json j = parse("Anna Berg\nanna@example.se\n+46 70 *** ** **\n");
    EXPECT_TRUE(j["basics"]["phone"].is_null());
}

TEST(ResumeParser, DateRangesAndDecimalsAreNotPhones) {
    const json j = parse(
        "Paulo Reis\npaulo@example.br\n\nEducation\nUniversidade de São Paulo\nGPA: 3.66 (9.15/10.0)\n"
        "2012 - 2016\n");
    EXPECT_TRUE(j["basics"]["phone"].is_null());
}

// An address line ending in a postcode right before the phone: the postcode is not part of
// the number, whatever the country's postcode shape.
TEST(ResumePhones, PostcodeBeforeThePhoneIsNotSwallowed) {
    using rp::resume::find_phones;
    const std::pair<const char *, const char *> cases[] = {
        {"Springfield, CA 94588 (555) 123-4567", "(555) 123-4567"},         // US ZIP
        {"Austin, TX 78701 512-555-0199", "512-555-0199"},                  // US ZIP, dashed phone
        {"Boston, MA 02116 617.555.0142", "617.555.0142"},                  // ZIP with a leading zero
        {"Toronto, ON M5V 2T6 (416) 555-0199", "(416) 555-0199"},          // Canada: letters and digits
        {"Sydney NSW 2000 0412 345 678", "0412 345 678"},                   // Australia
        {"Bengaluru, Karnataka 560001 98765 43210", "98765 43210"},         // India PIN
        {"São Paulo, SP 01310-100 +55 11 91234-5678", "+55 11 91234-5678"},  // Brazil CEP
        {"Warszawa 00-950 +48 12 345 67 89", "+48 12 345 67 89"},           // Poland
        {"London SW1A 1AA 020 7946 0958", "020 7946 0958"},                 // UK
        {"10117 Berlin +49 30 12345678", "+49 30 12345678"},                // Germany: postcode first
        {"〒100-0001 東京 03-1234-5678", "03-1234-5678"},  // Japan
    };
    for (const auto &[line, phone] : cases) {
        const auto got = find_phones(line);
        ASSERT_FALSE(got.empty()) << line;
        EXPECT_EQ(got.front(), phone) << line;
    }
    // A labelled number keeps all its groups.
    EXPECT_EQ(find_phones("Tel 0412 345 678").front(), "0412 345 678");
    EXPECT_EQ(find_phones("Phone: 030 1234 5678").front(), "030 1234 5678");
    EXPECT_EQ(parse("Jane Roe\nSpringfield, CA 94588 (555) 123-4567\njane@roe.dev\n")["basics"]["phone"],
              "(555) 123-4567");
}

TEST(ResumeParser, ReferencesContactsAreNotTheCandidates) {
    const json j = parse(
        "Nadia Farouk\n"
        "Cairo, Egypt\n"
        "\n"
        "References\n"
        "Dr. Samir Haddad, samir.haddad@example.edu, +20 2 2735 0000\n");
    EXPECT_TRUE(j["basics"]["email"].is_null());
    EXPECT_TRUE(j["basics"]["phone"].is_null());
}

TEST(ResumeParser, ProjectLinksAndSeeAlsoLinksAreNotPersonalUrls) {
    const json j = parse(
        "Chidi Okonkwo\n"
        "chidi@example.ng · linkedin.com/in/chidiokonkwo\n"
        "\n"
        "Experience\n"
        "Maintainer, Open Ledger Foundation, 2019–2022\n"
        "Kept the ledger library alive. See www.openledger.example.org.\n"
        "\n"
        "Projects\n"
        "Tiny Ledger — https://github.com/chidiokonkwo/tiny-ledger\n");
    EXPECT_EQ(urls(j), std::vector<std::string>{"linkedin.com/in/chidiokonkwo"});
    EXPECT_EQ(j["basics"]["profiles"][0]["username"], "chidiokonkwo");
}

TEST(ResumeParser, HomepageNamedLikeTheCandidateIsFoundOutsideTheHeader) {
    const json j = parse(
        "Experience\n"
        "Developer\n"
        "Company Alpha\n"
        "since 2016\n"
        "\n"
        "Skills\n"
        "HTML, CSS\n"
        "sam.taylor@example.com\n"
        "samtaylor.example.com\n");
    EXPECT_TRUE(j["basics"]["name"].is_null());  // the name is not in the text: none invented
    EXPECT_EQ(urls(j), std::vector<std::string>{"samtaylor.example.com"});
}

TEST(ResumeParser, SoftHyphensAndLigaturesAreRepaired) {
    const json j = parse(
        "Yuki Tanaka\n"
        "yuki@example.jp\n"
        "\n"
        "Experience\n"
        "Scienti\xEF\xAC\x81"
        "c Programmer, Kyoto Research Institute, 2018\xC2\xAD"
        "2021\n");
    ASSERT_EQ(j["work"].size(), 1u);
    EXPECT_EQ(j["work"][0]["name"], "Kyoto Research Institute");
    EXPECT_EQ(j["work"][0]["position"], "Scientific Programmer");
}

TEST(ResumeParser, TitleAtOrganisationTimeline) {
    const json j = parse(
        "Experience and Education\n"
        "10/2019 Software Engineer @Bluefin\n"
        "4/2016 Data Analyst @Oakridge Bank\n"
        "9/2013 Conference Talk\n");
    EXPECT_EQ(employers(j), (std::vector<std::string>{"Bluefin", "Oakridge Bank"}));
}

TEST(ResumeParser, ChineseResume) {
    const json j = parse(
        "李雷\n"
        "lilei@example.cn · (+86) 139-1234-5678\n"
        "\n"
        "教育背景\n"
        "浙江大学, 杭州\n"
        "2012 – 2016\n"
        "\n"
        "工作经历\n"
        "某某科技有限公司\n"
        "2016 年 7 月 – 至今\n");
    EXPECT_EQ(j["basics"]["name"], "李雷");
    EXPECT_EQ(j["basics"]["phone"], "(+86) 139-1234-5678");
    EXPECT_EQ(schools(j), std::vector<std::string>{"浙江大学"});
    EXPECT_EQ(employers(j), std::vector<std::string>{"某某科技有限公司"});
    EXPECT_EQ(j["work"][0]["startDate"], "2016-07");
}

TEST(ResumeParser, NameLineWithResumeWordAndSeparators) {
    EXPECT_EQ(parse("PETRA NOVAK RESUME\npetra@example.cz\n")["basics"]["name"], "PETRA NOVAK");
    EXPECT_EQ(parse("Petra Novak · Data Engineer · Brno\n")["basics"]["name"], "Petra Novak");
    EXPECT_TRUE(parse("Senior Data Engineer\nBrno, Czech Republic\n")["basics"]["name"].is_null());
}

TEST(ResumeParser, HeadingGluedToThePreviousLine) {
    const json j = parse(
        "Ola Nordmann\n"
        "\n"
        "Education\n"
        "2010–2014 Bachelor of Science, University of Bergen. Thesis on fluids. . .Experience\n"
        "2015–2020 Engineer, Fjord Energy AS, Bergen.\n");
    EXPECT_EQ(schools(j), std::vector<std::string>{"University of Bergen"});
    EXPECT_EQ(employers(j), std::vector<std::string>{"Fjord Energy AS"});
}

TEST(ResumeParser, LinkBrokenAtAHyphenInANarrowColumn) {
    const json j = parse(
        "Min-jun Adeyemi\n"
        "Utrecht \xE2\x80\xA2 adeyemi.min@outlook.com \xE2\x80\xA2 https://adeyemi-\n"
        "min.dev \xE2\x80\xA2 https://github.com/adeyemi-min\n"
        "GitHub\n(https://www.linkedin.com/in/jane-\ndoe42)\n\nEXPERIENCE\n");
    const auto u = urls(j);
    EXPECT_NE(std::find(u.begin(), u.end(), "https://adeyemi-min.dev"), u.end()) << j.dump();
    EXPECT_NE(std::find(u.begin(), u.end(), "https://www.linkedin.com/in/jane-doe42"), u.end()) << j.dump();
    EXPECT_EQ(std::find(u.begin(), u.end(), "min.dev"), u.end()) << j.dump();
}

TEST(ResumeParser, NamesInScriptsWithoutCapitals) {
    EXPECT_EQ(parse("\xD9\x81\xD8\xA7\xD8\xB7\xD9\x85\xD8\xA9 \xD8\xA7\xD9\x84\xD8\xB9\xD8\xAA\xD9\x8A\xD8\xA8\xD9\x8A\n"
                    "Abu Dhabi\nfatima@example.ae\n")["basics"]["name"],
              "\xD9\x81\xD8\xA7\xD8\xB7\xD9\x85\xD8\xA9 \xD8\xA7\xD9\x84\xD8\xB9\xD8\xAA\xD9\x8A\xD8\xA8\xD9\x8A");
    EXPECT_EQ(parse("\xD7\x99\xD7\xA2\xD7\x9C \xD7\x9B\xD7\x94\xD7\x9F\nTel Aviv\nyael@example.co.il\n")["basics"]["name"],
              "\xD7\x99\xD7\xA2\xD7\x9C \xD7\x9B\xD7\x94\xD7\x9F");
}

TEST(ResumeParser, NameWrappedInABoxAndPrintedInFull) {
    // A template that prints the name small beside a photo (wrapped) and again large.
    const json j = parse("Dmitri M.\nSharma\nDmitri M. Sharma\nProject Coordinator\ndmitri@example.org\n");
    EXPECT_EQ(j["basics"]["name"], "Dmitri M. Sharma");
    // A Japanese name is written without a space and never joined to the address below it.
    EXPECT_EQ(parse("\xE7\x94\xB0\xE4\xB8\xAD\xE7\xBF\x94\xE5\xA4\xAA\n\xE6\xB8\x8B\xE8\xB0\xB7\xE5\x8C\xBA\xE7\xA5\x9E\xE5\x8D\x97\n")["basics"]["name"],
              "\xE7\x94\xB0\xE4\xB8\xAD\xE7\xBF\x94\xE5\xA4\xAA");
}

TEST(ResumeParser, SubjectsAndEntryLabelsAreNotOrganisations) {
    const json j = parse(
        "Jane Doe\njane@example.org\n\nEXPERIENCE\nSilverlineSoft\n2019-06-01 \xE2\x80\x94\nIntern\nHighlights\n"
        "Improved latency of the search service.\n\nEDUCATION\nImperial College London\n2012 - 2014\nM.Sc., Physics\n"
        "Bachelor of Science, Economics\n2008 - 2012\n");
    EXPECT_EQ(employers(j), std::vector<std::string>{"SilverlineSoft"}) << j.dump();
    EXPECT_EQ(schools(j), std::vector<std::string>{"Imperial College London"}) << j.dump();
    EXPECT_TRUE(rp::resume::is_field_of_study("Computer Science"));
    EXPECT_TRUE(rp::resume::is_field_of_study("Electrical"));
    EXPECT_FALSE(rp::resume::is_field_of_study("Trinity College"));
    EXPECT_FALSE(rp::resume::is_field_of_study("INSEAD"));
}

TEST(ResumeParser, PostcodeAloneOnALineIsNotThePhone) {
    EXPECT_EQ(parse("M\xC3\xA4rta B\nAv. Paulista, 1578\n88010-000\nFlorian\xC3\xB3polis\nBR\nT  (11) 99775-7255\n"
                    "marta@example.org\n")["basics"]["phone"],
              "(11) 99775-7255");
    // A short number is still taken when it is the only one.
    EXPECT_EQ(parse("Jane Doe\njane@example.org\n555-1234\n")["basics"]["phone"], "555-1234");
}

TEST(ResumeParser, EuropassLabelledEntries) {
    // Labels in a left column, a long one wrapped around its value.
    const json j = parse(
        "Europass\nCurriculum Vitae\n\nPersonal information\nName / Surname\nMarcus Whitaker\n\nWork experience\n\n"
        "Dates\n2021\xE2\x80\x93Present\nOccupation or position held\nMarketing Manager\nMain activities and\n"
        "Negotiated onboarding for new customers.\nresponsibilities\nName and address of\nLumen & Sablefish\nemployer\n\n"
        "Dates\n2016\xE2\x80\x93" "2020\nOccupation or position held\nOperations Manager\nName and address of employer\n"
        "Silverline, Abu Dhabi\n\nEducation and training\n");
    EXPECT_EQ(employers(j), (std::vector<std::string>{"Lumen & Sablefish", "Silverline"})) << j.dump();
    EXPECT_EQ(j["work"][0]["position"], "Marketing Manager");
    EXPECT_EQ(j["work"][1]["startDate"], "2016");
    EXPECT_EQ(j["work"][1]["endDate"], "2020");
}

TEST(ResumeParser, EmailReadByOcrWithSpaces) {
    EXPECT_EQ(parse("Dmitri Tanaka\ntanaka. dmitri@outlook. com\n")["basics"]["email"], "tanaka.dmitri@outlook.com");
    EXPECT_EQ(parse("Jane Doe\njane @ example.org\n")["basics"]["email"], "jane@example.org");
}

TEST(ResumeParser, InvalidUtf8AndControlBytesDoNotBreakJson) {
    std::string text = "Bad \xFF\xFE Bytes\x01\x02\nname@example.com\n";
    text += std::string("\0\0\0", 3);
    const std::string out = rp::parse_resume_json(text);
    const json j = json::parse(out);  // valid JSON
    EXPECT_EQ(j["basics"]["email"], "name@example.com");
}

TEST(ResumeParser, HugeAndHostileInputStaysFast) {
    std::string text;
    text.reserve(8u << 20);
    while (text.size() < (8u << 20)) text += "Experience 2019 - 2020 a@b.co +1 555 0100 ((((( https://x.io/";
    std::string one_line(300000, '1');  // one long digit run, no newline
    std::string spaced;
    for (int i = 0; i < 100000; ++i) spaced += "a ";
    std::string headings;  // every line a heading: section lookups must stay linear
    while (headings.size() < 300000) headings += "Contact\nEducation\nSkills\n";
    std::string profiles;
    for (int i = 0; profiles.size() < 300000; ++i) profiles += "github.com/user" + std::to_string(i) + "\n";
    const auto start = std::chrono::steady_clock::now();
    for (const std::string *t : {&text, &one_line, &spaced, &headings, &profiles})
        EXPECT_NO_THROW(json::parse(rp::parse_resume_json(*t)));
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 10);
}

TEST(ResumeDates, RangesInSeveralForms) {
    using rp::resume::parse_dates;
    auto d = parse_dates("Mar. 2021 \xE2\x80\x93 Present");
    EXPECT_EQ(d.start, "2021-03");
    EXPECT_TRUE(d.ongoing);
    d = parse_dates("2015 / 07 - 2016 / 09");
    EXPECT_EQ(d.start, "2015-07");
    EXPECT_EQ(d.end, "2016-09");
    d = parse_dates("06/2019 - heute");
    EXPECT_EQ(d.start, "2019-06");
    EXPECT_TRUE(d.ongoing);
    EXPECT_TRUE(rp::resume::is_date_only("since January 2016"));
    EXPECT_TRUE(rp::resume::is_date_only("Date: Oct 2010 \xE2\x80\x93 July 2012"));
    EXPECT_FALSE(rp::resume::is_date_only("Senior Engineer, Acme Inc. 2019 - 2020"));
    // ISO dates (JSON Resume themes print them as stored), day-first and month-first numbers.
    d = parse_dates("2016-04-01 \xE2\x80\x94 2018-06-01");
    EXPECT_EQ(d.start, "2016-04");
    EXPECT_EQ(d.end, "2018-06");
    d = parse_dates("2019-06 \xE2\x80\x94");
    EXPECT_EQ(d.start, "2019-06");
    EXPECT_TRUE(rp::resume::is_date_only("2019-06-01 \xE2\x80\x94"));
    d = parse_dates("2016-2018");
    EXPECT_EQ(d.start, "2016");
    EXPECT_EQ(d.end, "2018");
    EXPECT_EQ(parse_dates("15.06.2019 - 31.12.2020").start, "2019-06");
    EXPECT_EQ(parse_dates("06/15/2019 - 12/31/2020").start, "2019-06");
    EXPECT_EQ(parse_dates("2019.06 - 2020.01").end, "2020-01");
}

TEST(ResumeEntries, OrganisationOfOneLine) {
    using rp::resume::org_of_line;
    EXPECT_EQ(org_of_line("Full Stack Developer, Acme Widgets, Inc., Springfield, USA, June 2018 - Present"),
              "Acme Widgets, Inc.");
    EXPECT_EQ(org_of_line("Systems Administrator, Hanse Hosting \xE2\x80\x94 2016 to 2020"), "Hanse Hosting");
    EXPECT_EQ(org_of_line("COMPANY ALPHA - Developer"), "COMPANY ALPHA");
    EXPECT_EQ(org_of_line("Tutor - Riverside College"), "Riverside College");
    EXPECT_EQ(org_of_line("June 2020 \xE2\x80\x93 ML Engineer, Deepfield, San Francisco, CA"), "Deepfield");
}

// The project's own samples (plain text): the name is the first line, email and phone are on the
// third line. Skipped when run from elsewhere than the repository root.
TEST(ResumeParser, ProjectSamples) {
    const char *const kSamples[] = {"ada_whitfield", "chen_wei",      "fatima_okafor",
                                    "jonas_becker",  "mateo_alvarez", "priya_raghunathan"};
    int seen = 0;
    for (const char *s : kSamples) {
        std::ifstream f(std::string("samples/") + s + ".txt");
        if (!f) continue;
        ++seen;
        std::stringstream ss;
        ss << f.rdbuf();
        const std::string text = ss.str();
        std::vector<std::string> lines;
        std::string line;
        std::istringstream in(text);
        while (std::getline(in, line)) lines.push_back(line);
        ASSERT_GE(lines.size(), 3u);
        const json j = parse(text);
        EXPECT_EQ(j["basics"]["name"], lines[0]) << s;
        ASSERT_TRUE(j["basics"]["email"].is_string()) << s;
        EXPECT_NE(lines[2].find(j["basics"]["email"].get<std::string>()), std::string::npos) << s;
        ASSERT_TRUE(j["basics"]["phone"].is_string()) << s;
        EXPECT_NE(lines[2].find(j["basics"]["phone"].get<std::string>()), std::string::npos) << s;
        EXPECT_FALSE(j["work"].empty()) << s;
        EXPECT_FALSE(j["education"].empty()) << s;
        for (const auto &w : j["work"]) EXPECT_FALSE(rp::resume::has_title_word(w["name"].get<std::string>())) << s;
    }
    if (seen == 0) GTEST_SKIP() << "samples/ not found (run from the repository root)";
}

}  // namespace
