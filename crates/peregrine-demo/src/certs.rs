//! `DeviceFileCertificateInfo`: the code-signing certificates of the executables and
//! libraries the tenant's devices run, with the same SHA1 as the image everywhere else.
//! A device reports an image's signature now and then (about one day in three); the
//! agents' binaries (remote support, patching, scanning) are checked daily.

use std::ops::Range;

use crate::catalog::{IMAGES, Img};
use crate::host::report_id;
use crate::rng::{Rng, file_hashes, fnv};
use crate::sink::Sink;
use crate::world::{DAY, Device, Role, World};

pub(crate) const TABLE: &str = "DeviceFileCertificateInfo";

const DIGICERT: &str = "DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1";

/// Rows per device and day, at most (sizes the work units).
pub(crate) const MAX_PER_DEVICE_DAY: u64 = 140;

/// Whether device `d` has image `img` on disk.
fn has(w: &World, dev: usize, d: &Device, img: Img, agents: &[Img]) -> bool {
    let def = w.image(img).def;
    if def.path.is_empty() || def.signer == "None" {
        return false;
    }
    if let Some(b) = crate::endpoint2::has_image(w, d, img) {
        return b;
    }
    let ws = !d.is_server();
    let dept = d.dept;
    match img {
        Img::TeamViewer
        | Img::ScreenConnect
        | Img::PdqConnect
        | Img::Splashtop
        | Img::AnyDesk
        | Img::Nessus => agents.contains(&img),
        // Tools a device rarely or never runs in the window.
        Img::Psexesvc
        | Img::NotepadPP
        | Img::Fodhelper
        | Img::Vssadmin
        | Img::Bcdedit
        | Img::Whoami
        | Img::Nltest
        | Img::Curl
        | Img::Tasklist => false,
        Img::Sqlservr | Img::SqlAgent => d.role == Role::Sql,
        Img::W3wp => matches!(d.role, Role::Web | Role::App),
        Img::Dns | Img::Dfsrs | Img::AdWs => d.role == Role::Dc,
        Img::Code | Img::Git | Img::Node => ws && dept == 4,
        Img::Chrome | Img::GoogleUpdate => {
            ws && d
                .user
                .and_then(|u| w.user(u))
                .is_some_and(|u| u.uses_chrome)
        }
        Img::Outlook
        | Img::Word
        | Img::Excel
        | Img::PowerPoint
        | Img::Teams
        | Img::OneDrive
        | Img::ClickToRun
        | Img::Acrobat
        | Img::IntuneAgent
        | Img::IntuneExt
        | Img::SearchIndexer
        | Img::SearchProtocolHost
        | Img::SearchFilterHost
        | Img::WebView2 => ws,
        _ => {
            let _ = dev;
            true
        }
    }
}

/// (signer, issuer, root is Microsoft) of an image.
fn signer(img: Img, company: &str, signer_type: &str) -> (&'static str, &'static str, bool) {
    if let Some(x) = crate::endpoint2::signer(img) {
        return x;
    }
    match img {
        Img::Git => (
            "Johannes Schindelin",
            "Sectigo Public Code Signing CA R36",
            false,
        ),
        Img::Node => (
            "OpenJS Foundation",
            "DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1",
            false,
        ),
        Img::Chrome | Img::GoogleUpdate => (
            "Google LLC",
            "DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1",
            false,
        ),
        Img::Acrobat => (
            "Adobe Inc.",
            "DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1",
            false,
        ),
        Img::TeamViewer => (
            "TeamViewer Germany GmbH",
            "DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1",
            false,
        ),
        Img::ScreenConnect => (
            "ConnectWise, LLC",
            "DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1",
            false,
        ),
        Img::PdqConnect => (
            "PDQ.com Corporation",
            "DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1",
            false,
        ),
        Img::Splashtop => (
            "Splashtop Inc.",
            "DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1",
            false,
        ),
        Img::AnyDesk => (
            "AnyDesk Software GmbH",
            "GlobalSign GCC R45 EV CodeSigning CA 2020",
            false,
        ),
        Img::Nessus => (
            "Tenable, Inc.",
            "DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1",
            false,
        ),
        Img::Curl => (
            "Microsoft Windows",
            "Microsoft Windows Production PCA 2011",
            true,
        ),
        _ if signer_type == "OsVendor" => (
            "Microsoft Windows",
            "Microsoft Windows Production PCA 2011",
            true,
        ),
        _ if company == "Microsoft Corporation" || signer_type == "Microsoft" => (
            "Microsoft Corporation",
            "Microsoft Code Signing PCA 2011",
            true,
        ),
        _ => (
            "Unknown Publisher",
            "DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1",
            false,
        ),
    }
}

fn crl(issuer: &str) -> &'static str {
    match issuer {
        "Microsoft Windows Production PCA 2011" => {
            "[\"http://www.microsoft.com/pkiops/crl/MicWinProPCA2011_2011-10-19.crl\"]"
        }
        "Microsoft Code Signing PCA 2011" => {
            "[\"http://www.microsoft.com/pkiops/crl/MicCodSigPCA2011_2011-07-08.crl\"]"
        }
        "Sectigo Public Code Signing CA R36" => {
            "[\"http://crl.sectigo.com/SectigoPublicCodeSigningCAR36.crl\"]"
        }
        "Contoso Dev Test" => "[]",
        "GlobalSign GCC R45 EV CodeSigning CA 2020" => {
            "[\"http://crl.globalsign.com/gsgccr45evcodesignca2020.crl\"]"
        }
        _ => {
            "[\"http://crl3.digicert.com/DigiCertTrustedG4CodeSigningRSA4096SHA3842021CA1.crl\",\"http://crl4.digicert.com/DigiCertTrustedG4CodeSigningRSA4096SHA3842021CA1.crl\"]"
        }
    }
}

/// Generates the certificate rows of devices `devs` on UTC day `day` (window part
/// `lo..hi`).
pub(crate) fn generate(w: &World, day: i64, lo: i64, hi: i64, devs: Range<usize>, s: &mut Sink) {
    let c = s.c;
    let col = |name: &str| s.col(name);
    let (is_signed, sig_type, signer_c, signer_hash, issuer_c, issuer_hash) = (
        col("IsSigned"),
        col("SignatureType"),
        col("Signer"),
        col("SignerHash"),
        col("Issuer"),
        col("IssuerHash"),
    );
    let (serial, crl_c, created_c, expires_c, counter_c, trusted, root_ms) = (
        col("CertificateSerialNumber"),
        col("CrlDistributionPointUrls"),
        col("CertificateCreationTime"),
        col("CertificateExpirationTime"),
        col("CertificateCountersignatureTime"),
        col("IsTrusted"),
        col("IsRootSignerMicrosoft"),
    );
    // Certificates renew every few years: creation a while before the window.
    let now_day = w.now.div_euclid(DAY) * DAY;
    let mut rows: Vec<(i64, usize)> = Vec::new();
    for dev in devs {
        let Some(d) = w.device(dev) else { continue };
        let agents = crate::extra::agent_images(w, dev);
        let mut r = Rng::derive(&[w.seed, fnv(TABLE), dev as u64, day as u64]);
        rows.clear();
        for (i, _) in IMAGES.iter().enumerate() {
            let Some(img) = img_at(i) else { continue };
            let daily = agents.contains(&img);
            let pick = r.chance(0.3);
            let t = day * DAY + r.range(0, DAY - 1) / 1_000_000 * 1_000_000;
            if !(daily || pick) || t < lo || t >= hi || !has(w, dev, d, img, &agents) {
                continue;
            }
            rows.push((t, i));
        }
        // The remote-access tools of `more.rs` (images outside the catalog), daily.
        let remotes = crate::more::remote_images(w, dev);
        for k in 0..remotes.len() {
            let t = day * DAY + r.range(0, DAY - 1) / 1_000_000 * 1_000_000;
            if t >= lo && t < hi {
                rows.push((t, IMAGES.len() + k));
            }
        }
        rows.sort_unstable();
        for (seq, &(t, i)) in rows.iter().enumerate() {
            let (sha1, signer, issuer, ms_root, trusted_img) = match img_at(i) {
                Some(img) => {
                    let image = w.image(img);
                    let def = image.def;
                    let (signer, issuer, ms_root) = signer(img, def.company, def.signer);
                    (
                        image.sha1.clone(),
                        signer,
                        issuer,
                        ms_root,
                        crate::endpoint2::trusted(img),
                    )
                }
                None => {
                    let Some((def, signer)) = remotes.get(i - IMAGES.len()) else {
                        continue;
                    };
                    (file_hashes(def.name).0, *signer, DIGICERT, false, true)
                }
            };
            let mut cr = Rng::derive(&[fnv(signer), fnv(issuer)]);
            let signer_hex = cr.hex(40);
            let issuer_hex = Rng::derive(&[fnv(issuer), 1]).hex(40);
            let serial_hex = cr.hex(if ms_root { 40 } else { 32 });
            let created = now_day - (60 + cr.range(0, 700)) * DAY
                + cr.range(0, DAY) / 1_000_000_000 * 1_000_000_000;
            let expires = created + if ms_root { 380 } else { 3 * 365 } * DAY;
            let countersigned = created + (1 + cr.range(0, 50)) * DAY + 3_600_000_000_000;
            s.t(c.Timestamp, t);
            s.s(c.DeviceId, &d.id);
            s.s(c.DeviceName, &d.name);
            s.s(c.SHA1, &sha1);
            s.b(is_signed, true);
            s.s(sig_type, "Embedded");
            s.s(signer_c, signer);
            s.s(signer_hash, &signer_hex);
            s.s(issuer_c, issuer);
            s.s(issuer_hash, &issuer_hex);
            s.s(serial, &serial_hex);
            s.s(crl_c, crl(issuer));
            s.t(created_c, created);
            s.t(expires_c, expires);
            s.t(counter_c, countersigned);
            s.b(trusted, trusted_img);
            s.b(root_ms, ms_root);
            s.l(c.ReportId, report_id(day, dev, seq as u64));
            s.end();
        }
    }
}

/// The `Img` at position `i` of `IMAGES`.
fn img_at(i: usize) -> Option<Img> {
    crate::catalog::ALL_IMGS.get(i).copied()
}
