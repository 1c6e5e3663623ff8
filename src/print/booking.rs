//! The booking slip: an A6 page the driver shows (printed or on the phone) at the waiting area,
//! with the booking number as Code128 and the signed 2D code, in 中文, Tiếng Việt and English.

use super::PrintError;
use super::codes;
use super::font::FontUse;
use super::permit::{Page, assemble};

const MM: f32 = 72.0 / 25.4;
const PAGE_W: f32 = 105.0 * MM;
const PAGE_H: f32 = 148.0 * MM;

/// What the slip shows: every line already in words (the service picks them).
pub struct BookingPrint {
    pub number: String,
    /// The signed 2D code's text (`BD1:…`).
    pub code: String,
    pub port: String,
    pub slot: String,
    pub direction: String,
    pub lane: String,
    pub plate: String,
    pub trailer_plate: Option<String>,
    pub driver: String,
    pub trade_pass: Option<String>,
    pub cargo: String,
    pub weight_kg: i32,
    pub customs_ref: Option<String>,
    /// Minutes either side of the slot a vehicle may check in.
    pub grace_minutes: u32,
}

pub fn booking_pdf(b: &BookingPrint) -> Result<Vec<u8>, PrintError> {
    let bars = codes::code128(&b.number)?;
    let (grid, qr_width) = codes::qr(&b.code)?;
    let mut font = FontUse::new()?;
    let mut page = Page::new(&mut font);
    let x = 8.0 * MM;
    let mut y = PAGE_H - 12.0 * MM;
    page.gray(0.0);
    page.text(x, y, 14.0, "通关预约凭证");
    y -= 5.5 * MM;
    page.text(x, y, 8.5, "Phiếu đặt chỗ thông quan · Clearance booking");
    y -= 9.0 * MM;
    page.text(x, y, 15.0, &b.number);
    y -= 8.0 * MM;
    let mut lines = vec![
        ("口岸 Cửa khẩu Port", b.port.clone()),
        ("时段 Khung giờ Slot", b.slot.clone()),
        ("方向 Hướng Direction", b.direction.clone()),
        ("通道 Làn Lane", b.lane.clone()),
        ("车牌 Biển số Plate", b.plate.clone()),
    ];
    if let Some(t) = &b.trailer_plate {
        lines.push(("挂车 Rơ moóc Trailer", t.clone()));
    }
    lines.push(("驾驶员 Lái xe Driver", b.driver.clone()));
    if let Some(p) = &b.trade_pass {
        lines.push(("边贸通行证 Trade pass", p.clone()));
    }
    lines.push(("货物 Hàng hóa Cargo", format!("{} · {} kg", b.cargo, b.weight_kg)));
    if let Some(r) = &b.customs_ref {
        lines.push(("报关单 Tờ khai Customs", r.clone()));
    }
    for (label, value) in &lines {
        page.gray(0.35);
        page.text(x, y, 6.5, label);
        page.gray(0.0);
        page.text(x + 33.0 * MM, y, 9.0, value);
        y -= 5.6 * MM;
    }
    // The signed code at the bottom right, the Code128 of the number at the bottom left: either
    // one checks the vehicle in.
    let qm = 0.55 * MM;
    let qr_side = qr_width as f32 * qm;
    let qx = PAGE_W - 8.0 * MM - qr_side;
    let qtop = 8.0 * MM + qr_side;
    page.modules(qx, qtop, qm, &grid, qr_width);
    let module = 0.28 * MM;
    page.bars(x, 12.0 * MM, module, 12.0 * MM, &bars);
    page.text(x, 8.0 * MM, 7.0, &b.number);
    page.gray(0.35);
    let g = b.grace_minutes;
    page.text(
        x,
        qtop + 3.0 * MM,
        6.5,
        &format!("请在时段前后{g}分钟内到候检区签到 · Đến khu chờ ±{g} phút · Check in ±{g} min"),
    );
    let content = page.content.finish();
    assemble(&content, font, PAGE_W, PAGE_H, &format!("Booking {}", b.number), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_both_codes() {
        let pdf = booking_pdf(&BookingPrint {
            number: "YYG-7K3M-9Q2X".into(),
            code: format!("BD1:{}", "A".repeat(120)),
            port: "友谊关口岸 Cửa khẩu Hữu Nghị".into(),
            slot: "2026-12-01 09:00".into(),
            direction: "出境 Xuất cảnh Exit".into(),
            lane: "鲜活农产品绿色通道 Làn xanh".into(),
            plate: "12C-123.45".into(),
            trailer_plate: Some("12R-012.34".into()),
            driver: "NGUYỄN VĂN AN".into(),
            trade_pass: None,
            cargo: "Nông sản tươi".into(),
            weight_kg: 21000,
            customs_ref: Some("VN-2026-0001".into()),
            grace_minutes: 30,
        })
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
    }
}
