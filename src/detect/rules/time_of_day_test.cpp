#include "detect/rules/time_of_day.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "detect/rules/detail_rules1_testing.h"

namespace granska::detect {
namespace {

using rules1::MakeFrame;

TimeOfDay Make(const nlohmann::json& params) { return rules1::MakeAlgorithm<TimeOfDay, TimeOfDayParams>(params); }

TEST(TimeOfDayTest, ScoreGrowsWithHoursOutsideTheWindow) {
    const auto frame = MakeFrame({{.hour = 22}, {.hour = 10}, {}, {.hour = 2}, {.hour = 19}, {.hour = 6}});
    const auto output = Make({}).Run(frame, {});
    ASSERT_TRUE(output);
    EXPECT_NEAR(output->score[0], 16.0 / 25.0, 1e-12);  // 22:xx is 4 hours past 19:00: 4² / (4² + 3²)
    EXPECT_EQ(output->score[1], 0.0);
    EXPECT_EQ(output->confidence[1], 1.0);
    EXPECT_EQ(output->score[2], 0.0);  // no time: not judged
    EXPECT_EQ(output->confidence[2], 0.0);
    EXPECT_NEAR(output->score[3], 25.0 / 34.0, 1e-12);  // 02:xx is 5 hours before 07:00
    EXPECT_NEAR(output->score[4], 1.0 / 10.0, 1e-12);   // 19:xx: 1 hour
    EXPECT_NEAR(output->score[5], 1.0 / 10.0, 1e-12);   // 06:xx: 1 hour
    EXPECT_EQ(output->reason[0],
              "Booked between 22:00 and 22:59 on Wednesday 2024-01-10, 4 hours outside working hours 07–19.");
    EXPECT_TRUE(output->reason[4].empty());
    ASSERT_EQ(output->flags.size(), 4u);
    EXPECT_EQ(output->flags[0].row, 0u);
    EXPECT_EQ(output->flags[0].rule, "outside_hours");
    EXPECT_EQ(output->flags[0].value, 22.0);
    EXPECT_EQ(nlohmann::json::parse(output->flags[0].metadata)["hours_outside"], 4);
}

TEST(TimeOfDayTest, WeekendEntriesAreOffHoursUnlessSwitchedOff) {
    const auto frame = MakeFrame({{.date = "2024-01-13", .hour = 10}, {.date = "2024-01-13", .hour = 22}});
    const auto output = Make({}).Run(frame, {});
    const auto weekdays_only = Make({{"weekends", false}}).Run(frame, {});
    ASSERT_TRUE(output && weekdays_only);
    EXPECT_NEAR(output->score[0], 0.4, 1e-12);
    EXPECT_EQ(output->reason[0], "Booked between 10:00 and 10:59 on Saturday 2024-01-13 (a weekend).");
    EXPECT_EQ(output->flags[0].rule, "off_day");
    EXPECT_NEAR(output->score[1], 1.0 - (1.0 - 0.64) * (1.0 - 0.4), 1e-12);
    EXPECT_EQ(weekdays_only->score[0], 0.0);
    EXPECT_NEAR(weekdays_only->score[1], 0.64, 1e-12);
}

TEST(TimeOfDayTest, CustomWindow) {
    const auto output = Make({{"start_hour", 8}, {"end_hour", 17}}).Run(MakeFrame({{.hour = 17}, {.hour = 8}}), {});
    ASSERT_TRUE(output);
    EXPECT_NEAR(output->score[0], 0.1, 1e-12);
    EXPECT_EQ(output->score[1], 0.0);
}

TEST(TimeOfDayParamsTest, RejectsBadFieldsByPath) {
    const auto start = TimeOfDayParams::FromJson({{"start_hour", 24}}, "algorithms[2].params");
    ASSERT_FALSE(start);
    EXPECT_EQ(start.error().column, "algorithms[2].params.start_hour");
    const auto end = TimeOfDayParams::FromJson({{"end_hour", 25}}, "p");
    ASSERT_FALSE(end);
    EXPECT_EQ(end.error().column, "p.end_hour");
    const auto order = TimeOfDayParams::FromJson({{"start_hour", 10}, {"end_hour", 9}}, "p");
    ASSERT_FALSE(order);
    EXPECT_EQ(order.error().column, "p.end_hour");
    const auto type = TimeOfDayParams::FromJson({{"weekends", 1}}, "p");
    ASSERT_FALSE(type);
    EXPECT_EQ(type.error().column, "p.weekends");
}

}  // namespace
}  // namespace granska::detect
