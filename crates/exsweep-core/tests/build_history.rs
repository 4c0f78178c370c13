//! The Exchange builds named by log headers, in the order they were in use: the first file a new
//! build wrote dates the update.

mod common;

use common::*;

#[test]
fn builds_are_followed_over_time() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let log = |build: &str, day: u32, hour: u32| {
        let t = format!("2021-03-{day:02}T{hour:02}:00:00.000Z");
        format!("{}{}\r\n", httpproxy_header(build, &t), httpproxy_row(&[("DateTime", &t)]))
    };
    // Unpatched CU19 until the 4th, then CU19 with the March 2021 SU (15.1.2176.9).
    for (day, build) in [(2u32, "15.01.2176.002"), (3, "15.01.2176.002"), (4, "15.01.2176.009"), (5, "15.01.2176.009")]
    {
        write(root, &format!("{EX}/Logging/HttpProxy/Owa/HttpProxy_202103{day:02}06-1.LOG"), log(build, day, 6));
    }
    let r = scan(&[root]);
    let host = &r.hosts[0];
    assert_eq!(host.builds.get("15.01.2176.002"), Some(&2));
    assert_eq!(host.builds.get("15.01.2176.009"), Some(&2));
    let h: Vec<(&str, u64, String, String)> = host
        .build_history
        .iter()
        .map(|s| (s.build.as_str(), s.files, s.first.unwrap().to_string(), s.last.unwrap().to_string()))
        .collect();
    assert_eq!(
        h,
        [
            ("15.01.2176.002", 2, "2021-03-02T06:00:00Z".to_string(), "2021-03-03T06:00:00Z".to_string()),
            ("15.01.2176.009", 2, "2021-03-04T06:00:00Z".to_string(), "2021-03-05T06:00:00Z".to_string()),
        ]
    );
    assert!(host.build_history[0].example_path.ends_with("HttpProxy_2021030206-1.LOG"));
}
