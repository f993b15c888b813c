//! STIX exports judged by the OASIS validator.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stix_exports_pass_the_oasis_validator() {
    let d = dataset().await;
    let api = format!("{}/api/v1", d.srv.base);
    let c = client();
    // A campaign with two incidents, to export as well.
    let campaign = post(
        &c,
        format!("{api}/campaigns"),
        &d.csirt,
        json!({"name": "Suplantación del SAT 2026", "description": "Phishing y sitios apócrifos", "tlp": "GREEN"}),
    )
    .await;
    let cid = campaign["id"].as_str().unwrap();
    for id in [&d.by_tlp["CLEAR"][0], &d.by_tlp["GREEN"][0]] {
        post(
            &c,
            format!("{api}/incidents/{id}/campaign"),
            &d.csirt,
            json!({"campaign_id": cid}),
        )
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, path) in [
        ("incident-green", format!("/incidents/{}/stix", d.by_tlp["GREEN"][1])),
        (
            "incident-strict",
            format!("/incidents/{}/stix", d.by_tlp["AMBER+STRICT"][0]),
        ),
        ("campaign", format!("/campaigns/{cid}/stix")),
    ] {
        let res = c
            .get(format!("{api}{path}"))
            .bearer_auth(&d.csirt)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(
            res.headers()["content-type"],
            "application/stix+json;version=2.1",
            "{path}"
        );
        let bundle: Value = res.json().await.unwrap();
        assert_eq!(bundle["type"], "bundle", "{path}");
        assert!(bundle["objects"].as_array().is_some_and(|o| !o.is_empty()), "{path}");
        let file = dir.path().join(format!("{name}.json"));
        std::fs::write(&file, serde_json::to_vec_pretty(&bundle).unwrap()).unwrap();
        files.push(file);
    }
    // Only the national CSIRT exports.
    let res = c
        .get(format!("{api}/incidents/{}/stix", d.by_tlp["GREEN"][1]))
        .bearer_auth(&d.indicators)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);

    let Some(validator) =
        baluarte_test_support::require::executable("STIX2_VALIDATOR", "the stix2_validator executable")
    else {
        return;
    };
    for file in &files {
        let out = match std::process::Command::new(&validator)
            .args(["--version", "2.1", "--strict"])
            .arg(file)
            .output()
        {
            Ok(o) => o,
            Err(e) => panic!("STIX2_VALIDATOR={} cannot run: {e}", validator.display()),
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let hint = if stdout.contains("Cannot locate a schema") {
            "\n(this validator has no STIX schemas: stix2-validator 3.3.1 wheels ship without them; use the \
             pinned 3.2.0 of tests/sharing/requirements.txt)"
        } else {
            ""
        };
        assert!(
            out.status.success(),
            "stix2_validator --strict refused {}:{hint}\n{stdout}\n{}\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(file).unwrap_or_default()
        );
    }
}
