//! `--script-output json`: every stdout line but the ready marker is one
//! JSON object (output.md §7), even with hostile bytes in the target.

use e2e_tests::{build_fixture, trace_events, Fixture};
use serde_json::Value;

#[test]
fn events_ready_and_exit_records_parse_with_typed_values() {
    let exe = build_fixture("hostile", "gcc", &["-g", "-O0"]);
    let fixture = Fixture::start(&exe);
    let script = r#"trace handle {
        print "start";
        print p.text;
        print p.id;
        print *p;
        print "id={} r={}", p.id, p.ratio;
        print "{:x.4}", p.text;
    }"#;
    let run = trace_events(fixture.pid(), script, 5, &["--script-output", "json"]);
    assert_eq!(run.code(), 0, "{}", run.stderr);
    let records: Vec<Value> = run
        .stdout
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect();
    assert_eq!(records.first().unwrap()["type"], "ready", "{}", run.out());
    assert_eq!(records[0]["attached"], 1);
    let last = records.last().unwrap();
    assert_eq!(last["type"], "exit");
    assert_eq!(last["reason"], "max_events");
    assert_eq!(last["code"], 0);
    let events: Vec<&Value> = records.iter().filter(|r| r["type"] == "event").collect();
    assert_eq!(events.len(), 5, "{}", run.out());
    for e in events {
        assert_eq!(e["trace_id"], 0);
        assert_eq!(e["target"], "handle");
        assert_eq!(e["pid"], fixture.pid());
        assert!(e["timestamp_ns"].as_u64().unwrap() > 0);
        assert!(e.get("time").is_none(), "timestamp none omits time: {e}");
        let lines = e["lines"].as_array().unwrap();
        let items = e["items"].as_array().unwrap();
        assert_eq!(lines.len(), 6);
        assert_eq!(items.len(), 6);
        for (line, item) in lines.iter().zip(items) {
            assert_eq!(line, &item["text"], "{item}");
        }
        assert_eq!(items[0]["kind"], "text");
        assert_eq!(items[1]["kind"], "value");
        let text = &items[1]["value"];
        assert_eq!(text["kind"], "string");
        assert_eq!(text["value"], "q\"b\\s\n\t\u{1}\u{fffd}\u{fffd}(end");
        assert_eq!(
            text["bytes_hex"],
            "71 22 62 5c 73 0a 09 01 ff c3 28 65 6e 64"
        );
        let id = &items[2]["value"];
        assert_eq!(id["kind"], "int");
        assert_eq!(id["ctype"], "int");
        assert_eq!(id["text"], id["value"].to_string());
        let whole = &items[3]["value"];
        assert_eq!(whole["kind"], "struct");
        assert_eq!(whole["name"], "packet");
        let fields = whole["fields"].as_array().unwrap();
        assert_eq!(fields[0]["name"], "id");
        assert_eq!(fields[0]["value"], *id);
        assert_eq!(fields[1]["value"]["kind"], "string");
        assert_eq!(fields[2]["value"]["kind"], "float");
        let format = &items[4];
        assert_eq!(format["kind"], "format");
        assert_eq!(format["args"][0], *id);
        assert_eq!(format["args"][1]["kind"], "float");
        let dump = &items[5]["args"][0];
        assert_eq!(dump["kind"], "dump");
        assert_eq!(dump["bytes_hex"], "71 22 62 5c");
    }
}
