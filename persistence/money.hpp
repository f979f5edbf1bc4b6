// Money in integer minor units (poisha for BDT). Parsed from and printed as exact decimal text;
// never a floating-point number anywhere on the way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace marketlink {

struct Money {
  int64_t minor = 0;  // 1500.00 BDT == 150000

  friend bool operator==(Money a, Money b) { return a.minor == b.minor; }
  friend auto operator<=>(Money a, Money b) { return a.minor <=> b.minor; }

  // "1500.00": always two decimal places.
  std::string to_string() const;
};

enum class DecimalProblem {
  none,
  invalid,
  too_many_decimals,
  too_many_digits,
  too_many_whole_digits
};

struct ParsedMoney {
  std::optional<Money> value;
  DecimalProblem problem = DecimalProblem::none;
};

// Parses a plain decimal literal ("1500", "1500.5", "-3.25", "0.10"); no exponent, no spaces.
// `max_digits` and the two decimal places follow DRF's DecimalField(max_digits, decimal_places=2).
ParsedMoney parse_money(std::string_view text, int max_digits = 10);

// DRF's message for a problem (empty for none).
std::string decimal_problem_message(DecimalProblem problem, int max_digits = 10);

}  // namespace marketlink
