use super::*;

#[test]
fn now_and_ago() {
    assert_eq!(
        call_t("now", vec![]),
        (K::DateTime, "2024-01-15T12:00:00.0000000Z".into())
    );
    assert_eq!(call("now", vec![ts("-1h")]), "2024-01-15T11:00:00.0000000Z");
    assert_eq!(call("ago", vec![ts("1d")]), "2024-01-14T12:00:00.0000000Z");
    let bt = batch(vec![("d", spans(&[Some("1h"), None]))]);
    assert_eq!(
        call_rows(&bt, "ago", vec![c("d", K::TimeSpan)]),
        vec!["2024-01-15T11:00:00.0000000Z", "null"]
    );
    assert!(crate::scalar_type("ago", &[at(&i64l(1))]).is_err());
}

#[test]
fn bin_on_time_and_numbers() {
    assert_eq!(
        call_t("bin", vec![dt("2007-01-02 13:45:30.123456"), ts("1h")]),
        (K::DateTime, "2007-01-02T13:00:00.0000000Z".into())
    );
    assert_eq!(
        call("bin", vec![dt("1969-12-31 23:30:00"), ts("1h")]),
        "1969-12-31T23:00:00.0000000Z"
    );
    assert_eq!(
        call("bin", vec![dt("1955-11-05 06:15:00"), ts("7d")]),
        "1955-10-31T00:00:00.0000000Z"
    );
    assert_eq!(
        call("bin", vec![dt("2007-03-09"), ts("30d")]),
        "2007-02-14T00:00:00.0000000Z"
    );
    assert_eq!(
        call("bin", vec![dt("2020-01-01 23:30"), ts("12h")]),
        "2020-01-01T12:00:00.0000000Z"
    );
    assert_eq!(
        call_t("bin", vec![ts("16d"), ts("7d")]),
        (K::TimeSpan, "14.00:00:00".into())
    );
    assert_eq!(
        call_t("bin", vec![f64l(4.5), i64l(1)]),
        (K::Real, "4.0".into())
    );
    assert_eq!(
        call_t("bin", vec![i64l(-5), i64l(2)]),
        (K::Long, "-6".into())
    );
    assert_eq!(call_t("bin", vec![i32l(5), i64l(2)]), (K::Long, "4".into()));
    assert_eq!(call("bin", vec![f64l(-2.5), f64l(1.5)]), "-3.0");
    assert_eq!(call("bin", vec![i64l(5), i64l(0)]), "null");
    assert_eq!(
        call_t("floor", vec![dt("2020-06-15 13:45"), ts("1d")]),
        (K::DateTime, "2020-06-15T00:00:00.0000000Z".into())
    );
    assert_eq!(call("bin_at", vec![f64l(6.5), f64l(2.5), i64l(7)]), "4.5");
    assert_eq!(
        call("bin_at", vec![ts("1h"), ts("1d"), ts("12h")]),
        "-12:00:00"
    );
    assert_eq!(
        call(
            "bin_at",
            vec![dt("2023-06-14 12:00"), ts("7d"), dt("2023-01-01")]
        ),
        "2023-06-11T00:00:00.0000000Z"
    );
    assert!(crate::scalar_type("bin", &[at(&dt("2020-01-01")), at(&i64l(1))]).is_err());
    let bt = batch(vec![("t", times(&[Some("2020-01-01 10:20"), None]))]);
    assert_eq!(
        call_rows(&bt, "bin", vec![c("t", K::DateTime), ts("1h")]),
        vec!["2020-01-01T10:00:00.0000000Z", "null"]
    );
}

#[test]
fn parts() {
    let t = || dt("2020-12-31 18:54:07.5");
    assert_eq!(call_t("getyear", vec![t()]), (K::Int, "2020".into()));
    assert_eq!(call("getmonth", vec![t()]), "12");
    assert_eq!(call("monthofyear", vec![t()]), "12");
    assert_eq!(call("dayofmonth", vec![t()]), "31");
    assert_eq!(call("dayofyear", vec![t()]), "366");
    assert_eq!(call("hourofday", vec![t()]), "18");
    assert_eq!(call("week_of_year", vec![dt("2007-01-01")]), "1");
    assert_eq!(call("weekofyear", vec![dt("2020-12-31")]), "53");
    assert_eq!(
        call_t("dayofweek", vec![dt("1947-11-30 10:00:05")]),
        (K::TimeSpan, "00:00:00".into())
    );
    assert_eq!(call("dayofweek", vec![dt("1970-05-12")]), "2.00:00:00");
    assert_eq!(
        call_t("datetime_part", vec![s("year"), t()]),
        (K::Int, "2020".into())
    );
    assert_eq!(call("datetime_part", vec![s("Quarter"), t()]), "4");
    assert_eq!(call("datetime_part", vec![s("millisecond"), t()]), "500");
    assert!(crate::scalar_type("datetime_part", &[at(&s("fortnight")), at(&t())]).is_err());
}

#[test]
fn start_and_end_of() {
    let t = || dt("2020-06-15 13:45:00");
    assert_eq!(
        call("startofday", vec![t()]),
        "2020-06-15T00:00:00.0000000Z"
    );
    assert_eq!(
        call("startofday", vec![t(), i64l(3)]),
        "2020-06-18T00:00:00.0000000Z"
    );
    assert_eq!(
        call("startofweek", vec![t()]),
        "2020-06-14T00:00:00.0000000Z"
    );
    assert_eq!(
        call("startofweek", vec![t(), i64l(-2)]),
        "2020-05-31T00:00:00.0000000Z"
    );
    assert_eq!(
        call("startofmonth", vec![dt("2020-06-15"), i64l(-13)]),
        "2019-05-01T00:00:00.0000000Z"
    );
    assert_eq!(
        call("startofyear", vec![t(), i64l(-5)]),
        "2015-01-01T00:00:00.0000000Z"
    );
    assert_eq!(call("endofday", vec![t()]), "2020-06-15T23:59:59.9999999Z");
    assert_eq!(call("endofweek", vec![t()]), "2020-06-20T23:59:59.9999999Z");
    assert_eq!(
        call("endofmonth", vec![dt("2020-02-10")]),
        "2020-02-29T23:59:59.9999999Z"
    );
    assert_eq!(call("endofyear", vec![t()]), "2020-12-31T23:59:59.9999999Z");
}

#[test]
fn add_and_diff() {
    assert_eq!(
        call("datetime_add", vec![s("month"), i64l(13), dt("2019-01-31")]),
        "2020-02-29T00:00:00.0000000Z"
    );
    assert_eq!(
        call("datetime_add", vec![s("year"), i64l(1), dt("2020-02-29")]),
        "2021-02-28T00:00:00.0000000Z"
    );
    assert_eq!(
        call(
            "datetime_add",
            vec![s("quarter"), i64l(-5), dt("2020-05-31")]
        ),
        "2019-02-28T00:00:00.0000000Z"
    );
    assert_eq!(
        call(
            "datetime_add",
            vec![s("week"), i64l(-53), dt("2021-03-15 12:00")]
        ),
        "2020-03-09T12:00:00.0000000Z"
    );
    assert_eq!(
        call(
            "datetime_add",
            vec![s("second"), i64l(-90061), dt("2020-01-01")]
        ),
        "2019-12-30T22:58:59.0000000Z"
    );
    assert_eq!(
        call("datetime_add", vec![s("day"), i32l(400), dt("2020-01-01")]),
        "2021-02-04T00:00:00.0000000Z"
    );
    assert_eq!(
        call_t(
            "datetime_diff",
            vec![s("year"), dt("2020-12-31"), dt("2021-01-01")]
        ),
        (K::Long, "-1".into())
    );
    assert_eq!(
        call(
            "datetime_diff",
            vec![s("month"), dt("2020-01-31"), dt("2020-02-01")]
        ),
        "-1"
    );
    assert_eq!(
        call(
            "datetime_diff",
            vec![s("day"), dt("2020-01-01 23:00"), dt("2020-01-01 01:00")]
        ),
        "0"
    );
    assert_eq!(
        call(
            "datetime_diff",
            vec![s("quarter"), dt("2024-03-31"), dt("2020-04-01")]
        ),
        "15"
    );
    assert_eq!(
        call(
            "datetime_diff",
            vec![s("week"), dt("2020-12-31"), dt("2020-01-01")]
        ),
        "52"
    );
    assert_eq!(
        call(
            "datetime_diff",
            vec![s("hour"), dt("2020-03-01"), dt("2020-02-28 12:00")]
        ),
        "36"
    );
    assert_eq!(
        call(
            "datetime_diff",
            vec![s("minute"), dt("2020-01-01"), dt("2020-01-01 13:45")]
        ),
        "-825"
    );
    assert_eq!(
        call(
            "datetime_diff",
            vec![
                s("second"),
                dt("2020-01-01 00:00:01.9999999"),
                dt("2020-01-01 00:00:00.0000001")
            ]
        ),
        "1"
    );
    assert_eq!(
        call(
            "datetime_diff",
            vec![s("day"), dt("1970-01-01"), dt("1969-12-25")]
        ),
        "7"
    );
}

#[test]
fn constructors_and_formats() {
    assert_eq!(
        call("make_datetime", vec![i64l(2017), i64l(10), i64l(1)]),
        "2017-10-01T00:00:00.0000000Z"
    );
    assert_eq!(
        call(
            "make_datetime",
            vec![
                i64l(2017),
                i64l(10),
                i64l(1),
                i64l(12),
                i64l(11),
                f64l(0.1234567)
            ]
        ),
        "2017-10-01T12:11:00.1234567Z"
    );
    assert_eq!(
        call("make_datetime", vec![i64l(2017), i64l(13), i64l(1)]),
        "null"
    );
    assert_eq!(
        call(
            "make_timespan",
            vec![i64l(1), i64l(12), i64l(30), f64l(55.123)]
        ),
        "1.12:30:55.1230000"
    );
    assert_eq!(
        call("make_timespan", vec![i64l(1), i64l(2), i64l(3)]),
        "01:02:03"
    );
    assert_eq!(
        call(
            "make_timespan",
            vec![i64l(0), i64l(25), i64l(61), f64l(61.5)]
        ),
        "null"
    );
    assert_eq!(
        call("unixtime_seconds_todatetime", vec![i64l(1546300800)]),
        "2019-01-01T00:00:00.0000000Z"
    );
    assert_eq!(
        call(
            "unixtime_milliseconds_todatetime",
            vec![f64l(1546300800123.0)]
        ),
        "2019-01-01T00:00:00.1230000Z"
    );
    assert_eq!(
        call(
            "unixtime_microseconds_todatetime",
            vec![i64l(1546300800000001)]
        ),
        "2019-01-01T00:00:00.0000010Z"
    );
    assert_eq!(
        call(
            "unixtime_nanoseconds_todatetime",
            vec![i64l(1546300800000000100)]
        ),
        "2019-01-01T00:00:00.0000001Z"
    );
    assert_eq!(
        call(
            "format_datetime",
            vec![dt("2020-06-15 13:45:09"), s("M/d/yyyy h:mm:ss tt")]
        ),
        "6/15/2020 1:45:09 PM"
    );
    assert_eq!(
        call(
            "format_datetime",
            vec![dt("2007-01-02 03:04:05"), s("yy-MM-dd HH:mm")]
        ),
        "07-01-02 03:04"
    );
    assert_eq!(
        call("format_datetime", vec![null(K::DateTime), s("yyyy")]),
        ""
    );
    assert_eq!(
        call("format_timespan", vec![ts("2.03:04:05"), s("d.hh:mm:ss")]),
        "2.03:04:05"
    );
    assert_eq!(
        call("format_timespan", vec![ts("-1.02:00:00"), s("d.hh:mm")]),
        "-1.02:00"
    );
    assert_eq!(call("ingestion_time", vec![]), "null");
    assert_eq!(
        call(
            "datetime_utc_to_local",
            vec![dt("2015-12-31 23:59:59.9"), s("US/Eastern")]
        ),
        "2015-12-31T18:59:59.9000000Z"
    );
    assert_eq!(
        call(
            "datetime_local_to_utc",
            vec![dt("2020-02-02 20:02:20"), s("US/Pacific")]
        ),
        "2020-02-03T04:02:20.0000000Z"
    );
    for (local, utc) in [
        ("2022-03-27 01:00", "2022-03-27T00:00:00.0000000Z"),
        ("2022-03-27 02:00", "2022-03-27T00:00:00.0000000Z"),
        ("2022-03-27 03:00", "2022-03-27T01:00:00.0000000Z"),
    ] {
        assert_eq!(
            call(
                "datetime_local_to_utc",
                vec![dt(local), s("Europe/Brussels")]
            ),
            utc,
            "{local}"
        );
    }
    assert_eq!(
        call(
            "datetime_utc_to_local",
            vec![dt("2020-01-01"), s("Not/AZone")]
        ),
        "null"
    );
    assert!(call("datetime_list_timezones", vec![]).contains("\"Europe/Paris\""));
}
