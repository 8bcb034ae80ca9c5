// No colour management in the parser. poppler (built with Little CMS) builds ICC colour transforms
// for every page it interprets, text extraction included: four from the catalog's output intent
// (a PDF/A's sRGB profile, say) to its device space, and two for each ICCBased colour space.
// Building one means inverting the output profile's tone curves (cmsReverseToneCurveEx), which
// for a tabulated curve takes milliseconds: on a PDF/A two-pager that was two thirds of the
// parse. Text extraction never uses a colour, and the pages rendered for OCR are grey, where the
// plain conversion poppler falls back to is as good.
//
// poppler offers no switch for it, so the parser registers a Little CMS rendering-intent plugin
// (its public extension interface, lcms2_plugin.h) that takes over the four ICC intents and
// links nothing: cmsCreateTransform then fails at once, before any curve is inverted, and poppler
// does what it does with a profile it cannot use: it warns (into the diagnostics callback, which
// is shown only for a PDF that cannot be opened) and converts through the colour space's alternate
// (ICCBased) or without the output intent, as a poppler built without Little CMS would.
#include "colour_management.h"

#include <lcms2_plugin.h>

namespace rp::helper {
namespace {

cmsPipeline *refuse_link(cmsContext, cmsUInt32Number, cmsUInt32Number[], cmsHPROFILE[], cmsBool[], cmsFloat64Number[],
                         cmsUInt32Number) {
    return nullptr;
}

// One plugin per intent, chained; Little CMS keeps pointers to them, so they live as long as the
// process.
cmsPluginRenderingIntent intents[] = {
    {{cmsPluginMagicNumber, LCMS_VERSION, cmsPluginRenderingIntentSig, nullptr}, INTENT_PERCEPTUAL, refuse_link, "none"},
    {{cmsPluginMagicNumber, LCMS_VERSION, cmsPluginRenderingIntentSig, nullptr}, INTENT_RELATIVE_COLORIMETRIC, refuse_link,
     "none"},
    {{cmsPluginMagicNumber, LCMS_VERSION, cmsPluginRenderingIntentSig, nullptr}, INTENT_SATURATION, refuse_link, "none"},
    {{cmsPluginMagicNumber, LCMS_VERSION, cmsPluginRenderingIntentSig, nullptr}, INTENT_ABSOLUTE_COLORIMETRIC, refuse_link,
     "none"},
};

}  // namespace

bool turn_off_colour_management() {
    constexpr size_t n = sizeof intents / sizeof intents[0];
    for (size_t i = 0; i + 1 < n; i++) intents[i].base.Next = &intents[i + 1].base;
    return cmsPlugin(&intents[0]) != 0;
}

}  // namespace rp::helper
