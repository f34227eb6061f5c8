use super::*;

#[test]
fn basics() {
    assert_eq!(call_t("strlen", vec![s("⒦⒰⒮⒯⒪")]), (K::Long, "5".into()));
    assert_eq!(call("strlen", vec![s("𝓗ello")]), "5");
    assert_eq!(call("strlen", vec![null(K::String)]), "0");
    assert_eq!(call("string_size", vec![s("café")]), "5");
    assert_eq!(call("tolower", vec![s("ÀBC")]), "àbc");
    assert_eq!(call("toupper", vec![s("naïve")]), "NAÏVE");
    assert_eq!(call("tolower", vec![i64l(5)]), "5");
    assert_eq!(call("reverse", vec![s("café")]), "éfac");
    assert_eq!(call("reverse", vec![f64l(123.45)]), "54.321");
    assert_eq!(
        call(
            "strcat",
            vec![s("a"), i64l(1), b(true), null(K::Long), ts("1s")]
        ),
        "a1True00:00:01"
    );
    assert_eq!(
        call(
            "strcat_delim",
            vec![s("-"), i64l(1), s("2"), s("A"), ts("1s")]
        ),
        "1-2-A-00:00:01"
    );
    assert_eq!(call("strrep", vec![s("ABC"), i64l(2)]), "ABCABC");
    assert_eq!(
        call("strrep", vec![i64l(123), i64l(3), s(".")]),
        "123.123.123"
    );
    assert_eq!(call("isascii", vec![s("abc")]), "true");
    assert_eq!(call("isascii", vec![s("é")]), "false");
    assert_eq!(
        call("regex_quote", vec![s("(so$me.Te^xt)")]),
        r"\(so\$me\.Te\^xt\)"
    );
    assert_eq!(call("strcmp", vec![s("a"), s("b")]), "-1");
    assert_eq!(call("to_utf8", vec![s("é")]), "[195,169]");
    assert_eq!(
        call("unicode_codepoints_from_string", vec![s("Kus")]),
        "[75,117,115]"
    );
    assert_eq!(
        call(
            "unicode_codepoints_to_string",
            vec![i64l(75), i64l(117), dynl("[115,116,111]")]
        ),
        "Kusto"
    );
    let bt = batch(vec![("s", strs(&[Some("Hello"), None, Some("")]))]);
    assert_eq!(
        call_rows(&bt, "toupper", vec![c("s", K::String)]),
        vec!["HELLO", "", ""]
    );
    assert_eq!(
        call_rows(&bt, "strlen", vec![c("s", K::String)]),
        vec!["5", "0", "0"]
    );
}

#[test]
fn substring_and_indexof() {
    assert_eq!(call("substring", vec![s("hello"), i64l(1), i64l(2)]), "el");
    assert_eq!(call("substring", vec![s("hello"), i64l(1)]), "ello");
    assert_eq!(call("substring", vec![s("hello"), i64l(-2), i64l(2)]), "lo");
    assert_eq!(call("substring", vec![s("hello"), i64l(-100), i64l(3)]), "");
    assert_eq!(call("substring", vec![s("abc"), i64l(5), i64l(3)]), "");
    assert_eq!(call("substring", vec![s("hello"), i64l(1), i64l(-1)]), "");
    assert_eq!(call("substring", vec![s("👨‍👩‍👧"), i64l(0), i64l(1)]), "👨");
    assert_eq!(call("substring", vec![i64l(12345), i32l(1), i32l(2)]), "23");
    assert_eq!(call("indexof", vec![s("abcdefg"), s("cde")]), "2");
    assert_eq!(
        call("indexof", vec![s("abcdefg"), s("cde"), i64l(1), i64l(2)]),
        "-1"
    );
    assert_eq!(call("indexof", vec![s("abcdefg"), s("cde"), i64l(-5)]), "2");
    assert_eq!(
        call("indexof", vec![i64l(1234567), i64l(5), i64l(1), i64l(4)]),
        "4"
    );
    assert_eq!(
        call(
            "indexof",
            vec![s("abcdefgabcdefg"), s("cde"), i64l(1), i64l(10), i64l(2)]
        ),
        "9"
    );
    assert_eq!(call("indexof", vec![s("abc"), s("")]), "null");
    assert_eq!(call("indexof", vec![s("café"), s("é")]), "3");
    let bt = batch(vec![
        ("s", strs(&[Some("abcdef"), Some("xy"), Some("")])),
        ("n", ints(&[Some(2), Some(-1), Some(3)])),
    ]);
    assert_eq!(
        call_rows(
            &bt,
            "substring",
            vec![c("s", K::String), c("n", K::Int), i64l(3)]
        ),
        vec!["cde", "y", ""]
    );
}

#[test]
fn trim_replace_reverse() {
    assert_eq!(call("trim", vec![s("x"), s("xxabcxx")]), "xabcx");
    assert_eq!(
        call("trim", vec![s(r"\s+"), s("    Hello, world!    ")]),
        "Hello, world!"
    );
    assert_eq!(
        call("trim_start", vec![s(r"[^\w]+"), s("-  Te st1// $")]),
        "Te st1// $"
    );
    assert_eq!(
        call("trim_end", vec![s(r"[^\w]+"), s("-  Te st1// $")]),
        "-  Te st1"
    );
    assert_eq!(call("trim_end", vec![s(".com"), s("bing.com")]), "bing");
    assert_eq!(call("trim", vec![s(r"\s"), s("\t\tx\t\t")]), "\tx\t");
    assert_eq!(
        call("replace_string", vec![s("Number is 1"), s("is"), s("was")]),
        "Number was 1"
    );
    assert_eq!(call("replace_string", vec![s("aaa"), s(""), s("X")]), "aaa");
    assert_eq!(
        call("replace_regex", vec![s("abcABCabc"), s("(?i)abc"), s("#")]),
        "###"
    );
    assert_eq!(
        call(
            "replace_regex",
            vec![s("abcABCabc"), s("([a-z])([A-Z])"), s(r"\1_\2")]
        ),
        "abc_ABCabc"
    );
    assert_eq!(
        call(
            "replace_regex",
            vec![s("wordword"), s(r"(\w)(\w)"), s(r"\2\1")]
        ),
        "owdrowdr"
    );
    assert_eq!(
        call("replace", vec![s(r"\s+"), s("-"), s("one two  three")]),
        "one-two-three"
    );
}

#[test]
fn extract_family() {
    assert_eq!(
        call(
            "extract",
            vec![s("User: ([^,]+)"), i64l(1), s("User: James, Email: x")]
        ),
        "James"
    );
    assert_eq!(
        call("extract", vec![s(r"\d+"), i64l(0), s("Age: 35")]),
        "35"
    );
    assert_eq!(
        call(
            "extract",
            vec![s(r"Email: (\S+),"), i64l(1), s("User: David, Age: 35")]
        ),
        ""
    );
    let ty = typeof_(K::Int);
    assert_eq!(
        call_t(
            "extract",
            vec![s(r"-(\d{2})-"), i64l(1), s("21-07-2023"), ty.clone()]
        ),
        (K::Int, "7".into())
    );
    assert_eq!(
        call_t("extract", vec![s(r"-(\d{2})-"), i64l(1), s("nothing"), ty]),
        (K::Int, "null".into())
    );
    assert_eq!(
        call(
            "extract_all",
            vec![s(r"(\d+)"), s("a set of numbers: 123, 567 and 789")]
        ),
        r#"["123","567","789"]"#
    );
    assert_eq!(
        call("extract_all", vec![s(r"([a-z])(\d)?"), s("a1b")]),
        r#"[["a","1"],["b",""]]"#
    );
    assert_eq!(
        call(
            "extract_all",
            vec![
                s(r"(?P<first>\w)(?P<middle>\w+)(?P<last>\w)"),
                dynl(r#"["first",2,"last"]"#),
                s("82b8be2d-dfa7")
            ]
        ),
        r#"[["8","2b8be2","d"],["d","fa","7"]]"#
    );
    assert_eq!(call("extract_all", vec![s(r"(\d)"), s("none")]), "null");
    assert_eq!(call("countof", vec![s("aaaa"), s("aa")]), "3");
    assert_eq!(
        call("countof", vec![s("Hello World Hello"), s("l"), s("regex")]),
        "5"
    );
    assert_eq!(call("countof", vec![s("ababa"), s("aba"), s("regex")]), "1");
    assert!(crate::scalar_type("countof", &[at(&s("a")), at(&s("b")), at(&s("bad"))]).is_err());
}

#[test]
fn split_function() {
    assert_eq!(
        call_t("split", vec![s("a,b,c"), s(",")]),
        (K::Dynamic, r#"["a","b","c"]"#.into())
    );
    assert_eq!(call("split", vec![s(""), s(",")]), r#"[""]"#);
    assert_eq!(call("split", vec![s("a,,b"), s(",")]), r#"["a","","b"]"#);
    assert_eq!(call("split", vec![s("a=b=c"), s("="), i64l(1)]), r#"["b"]"#);
    assert_eq!(call("split", vec![s("noequals"), s("="), i64l(1)]), "null");
    assert_eq!(
        call("split", vec![s("line1\r\nline2"), s("\r\n")]),
        r#"["line1","line2"]"#
    );
    let bt = batch(vec![("s", strs(&[Some("x.y"), None]))]);
    assert_eq!(
        call_rows(&bt, "split", vec![c("s", K::String), s(".")]),
        vec![r#"["x","y"]"#, r#"[""]"#]
    );
}

#[test]
fn encodings_and_hashes() {
    assert_eq!(call("base64_encode_tostring", vec![s("Kusto")]), "S3VzdG8=");
    assert_eq!(call("base64_decode_tostring", vec![s("S3VzdG8=")]), "Kusto");
    assert_eq!(call("base64_decode_tostring", vec![s("!!!")]), "");
    assert_eq!(
        call("base64_decode_toarray", vec![s("S3VzdG8=")]),
        "[75,117,115,116,111]"
    );
    assert_eq!(
        call(
            "base64_encode_fromarray",
            vec![dynl("[75,117,115,116,111]")]
        ),
        "S3VzdG8="
    );
    assert_eq!(call("base64_decode_toguid", vec![s("abcd1231")]), "null");
    let g = l(
        Const::Guid("ae3133f2-6e22-49ae-b06a-16e6a9b212eb".into()),
        K::Guid,
    );
    let enc = call("base64_encode_fromguid", vec![g]);
    assert_eq!(
        call("base64_decode_toguid", vec![s(&enc)]),
        "ae3133f2-6e22-49ae-b06a-16e6a9b212eb"
    );
    assert_eq!(
        call(
            "url_encode_component",
            vec![s("https://www.bing.com/hello world/")]
        ),
        "https%3a%2f%2fwww.bing.com%2fhello%20world%2f"
    );
    assert_eq!(call("url_encode", vec![s("a b")]), "a+b");
    assert_eq!(
        call("url_decode", vec![s("https%3a%2f%2fx.com%2fa%20b")]),
        "https://x.com/a b"
    );
    assert_eq!(
        call("hash_md5", vec![s("World")]),
        "f5a7924e621e84c9280a9a27e1bcb7f6"
    );
    assert_eq!(
        call("hash_md5", vec![dt("2020-01-01")]),
        "786c530672d1f8db31fee25ea8a9390b"
    );
    assert_eq!(
        call("hash_sha1", vec![s("World")]),
        "70c07ec18ef89c5309bbb0937f3a6342411e1fdd"
    );
    assert_eq!(
        call("hash_sha256", vec![s("World")]),
        "78ae647dc5544d227130a0682a51e30bc7777fbb6d8a8f17007463a3ecd1d524"
    );
    assert_eq!(
        call_t("hash", vec![s("World")]),
        (K::Long, "1846988464401551951".into())
    );
    assert_eq!(call("hash", vec![s("World"), i64l(100)]), "51");
    assert_eq!(
        call("hash_xxhash64", vec![s("World")]),
        "1846988464401551951"
    );
}

#[test]
fn structured_parsers() {
    assert_eq!(
        call(
            "parse_url",
            vec![s(
                "https://user:pw@www.contoso.com:8080/a/b.html?x=1&y=a%20b#frag"
            )]
        ),
        r#"{"Scheme":"https","Host":"www.contoso.com","Port":"8080","Path":"/a/b.html","Username":"user","Password":"pw","Query Parameters":{"x":"1","y":"a b"},"Fragment":"frag"}"#
    );
    assert_eq!(
        call("parse_url", vec![s("not a url")]),
        r#"{"Scheme":"","Host":"","Port":"","Path":"","Username":"","Password":"","Query Parameters":{},"Fragment":""}"#
    );
    assert_eq!(
        call("parse_urlquery", vec![s("k1=v1&k2=v2")]),
        r#"{"Query Parameters":{"k1":"v1","k2":"v2"}}"#
    );
    assert_eq!(
        call("parse_path", vec![s("/usr/lib/temp/file.txt")]),
        r#"{"Scheme":"","RootPath":"","DirectoryPath":"/usr/lib/temp","DirectoryName":"temp","Filename":"file.txt","Extension":"txt","AlternateDataStreamName":""}"#
    );
    assert_eq!(
        call(
            "parse_command_line",
            vec![s(r#"echo "hello world!""#), s("windows")]
        ),
        r#"["echo","hello world!"]"#
    );
    assert!(crate::scalar_type("parse_command_line", &[at(&s("x")), at(&s("linux"))]).is_err());
    assert_eq!(
        call("parse_csv", vec![s(r#"aa,"b,b",cc"#)]),
        r#"["aa","b,b","cc"]"#
    );
}
