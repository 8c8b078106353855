//! The JUnit XML report of a run (`--junit`), through `quick-junit`: one test case per job
//! (class = shot, name = variant), failures with the service's code and message, jobs not
//! done (queued, budget, in flight) as skipped.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::{ResultRow, RowState};

/// The report as XML.
pub fn junit(suite: &str, rows: &[ResultRow]) -> String {
    let mut tests = TestSuite::new(suite);
    for r in rows.iter().filter(|r| r.state != RowState::Orphaned) {
        let status = match r.state {
            RowState::Done => TestCaseStatus::success(),
            RowState::Failed | RowState::Expired | RowState::Canceled => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_type(r.error_code.clone().unwrap_or_else(|| r.state.word().to_owned()))
                    .set_message(r.error_message.clone().unwrap_or_default())
                    .set_description(format!("key {} task {}", r.key, r.task_id.as_deref().unwrap_or("-")));
                s
            }
            other => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(other.word());
                s
            }
        };
        let mut case = TestCase::new(if r.variant.is_empty() { "default" } else { &r.variant }, status);
        case.set_classname(r.shot.as_str());
        tests.add_test_case(case);
    }
    let mut report = Report::new(suite);
    report.add_test_suite(tests);
    // Serializing to a String fails only on an I/O error of the String itself.
    report.to_string().unwrap_or_default()
}
