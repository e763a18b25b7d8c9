// Keys for telling that two orders or customers are the same person, and for reading a
// referral code out of a landing URL. The referral program (issue 5) uses them for attribution
// and for its self-referral guard: a friend whose inbox, phone or front door is the
// advocate's own is the advocate.
//
// Each key is a heuristic that errs towards matching: a false match rejects one referral
// with a recorded reason a merchant can see and override; a miss pays a fraudster. None of
// them is an identity for any other purpose (never a login, never a dedupe of customers).
//
// Rules and why:
//   - CanonicalEmail: NormaliseEmail (case, surrounding blanks), then the local part loses a
//     "+tag" for every domain (Gmail, Outlook, iCloud, Fastmail and most hosted mail deliver
//     "ada+shop@x" to "ada@x"; on a domain that does not, a false match is the cheap error),
//     and for gmail.com / googlemail.com the dots in the local part go and googlemail.com
//     becomes gmail.com (Google ignores dots in consumer addresses and serves both domains
//     from one inbox). Other providers' dots are significant and are kept.
//   - PhoneKey: the last 10 digits of the number. Formatting differs between checkouts
//     ("+1 (613) 612-0707", "613-612-0707", "0044 20 ...", "020 ...") and 10 digits cover a
//     North American number without its country code and most national numbers without
//     their trunk prefix. Numbers of fewer than 7 digits are too short to mean anything.
//   - AddressKey: the first address line reduced to lower-cased letters and digits, the
//     postcode without spaces, upper-cased, and the country: "12 St. James's Sq" and
//     "12 st james's sq" are one door. The city and province are left out (spelled many ways;
//     the postcode and country already place the street), and so is address2: checkouts put
//     the flat number on either line, so two flats of one building may match.
//   - RefCodesFromLandingSite: the values of one query parameter, as a browser's
//     URLSearchParams would read them (percent-decoding, '+' as a space).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/model.h"

namespace loyaltyd {

// "" when NormaliseEmail gives "" (empty, no '@'). Non-ASCII bytes are kept as sent. A local
// part that the rules would empty ("+x@example.com", "..@gmail.com") is kept whole, so that
// such addresses never collapse into one.
std::string CanonicalEmail(std::string_view email);

// The ASCII digits of `phone`, the last 10 of them; "" when it has fewer than 7 digits.
std::string PhoneKey(std::string_view phone);

// "<street>|<ZIP>|<COUNTRY>": the lower-cased ASCII letters and digits of address1 (bytes of
// non-ASCII letters kept as sent), the zip without spaces upper-cased, country_code
// upper-cased. "" when address1 has no letter or digit (empty, or punctuation only).
std::string AddressKey(const Address& address);

// The values of query parameter `parameter` (matched exactly, case-sensitive, after decoding)
// in a path + query or a full URL, in order, percent-decoded with '+' as a space; empty values
// are skipped. Anything after '#' is a fragment and is not read. A malformed escape ("%zz")
// is kept literally, as browsers do.
std::vector<std::string> RefCodesFromLandingSite(std::string_view landing_site,
                                                 std::string_view parameter);

}  // namespace loyaltyd
