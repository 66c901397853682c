//! SVG charts of the replay: the target's live heap, its alive tasks and the p99 latency over
//! time, with the phase boundaries marked.

use std::path::Path;

use anyhow::Context as _;
use plotters::prelude::*;

/// A phase's span on the time axis, seconds since the replay started.
pub struct Band<'a> {
    pub name: &'a str,
    pub start: f64,
    pub end: f64,
    pub leaky: bool,
}

pub struct Chart<'a> {
    pub title: &'a str,
    pub y_label: &'a str,
    pub points: &'a [(f64, f64)],
    pub bands: &'a [Band<'a>],
}

const LEAKY_BAND: RGBColor = RGBColor(253, 226, 226);
const FIXED_BAND: RGBColor = RGBColor(222, 242, 226);
const LINE: RGBColor = RGBColor(31, 91, 181);

pub fn render(chart: &Chart<'_>, path: &Path) -> anyhow::Result<()> {
    // From the first phase shown (one scenario of several starts late in the replay).
    let x_min = chart
        .bands
        .iter()
        .map(|b| b.start)
        .chain(chart.points.iter().map(|(t, _)| *t))
        .reduce(f64::min)
        .map_or(0.0, f64::floor);
    let x_max = chart
        .bands
        .iter()
        .map(|b| b.end)
        .chain(chart.points.iter().map(|(t, _)| *t))
        .fold(x_min + 1.0, f64::max);
    let y_max = chart
        .points
        .iter()
        .map(|(_, v)| *v)
        .fold(0.0, f64::max)
        .max(1.0)
        * 1.15;
    let root = SVGBackend::new(path, (960, 360)).into_drawing_area();
    root.fill(&WHITE).context("drawing the chart")?;
    let mut plot = ChartBuilder::on(&root)
        .caption(chart.title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(x_min..x_max, 0.0..y_max)
        .context("laying out the chart")?;
    // Phase bands first, so the line is drawn over them.
    plot.draw_series(
        chart
            .bands
            .iter()
            .filter(|b| b.name.contains("storm"))
            .map(|b| {
                let color = if b.leaky { LEAKY_BAND } else { FIXED_BAND };
                Rectangle::new([(b.start, 0.0), (b.end, y_max)], color.filled())
            }),
    )
    .context("drawing the phases")?;
    plot.draw_series(chart.bands.iter().map(|b| {
        PathElement::new(
            vec![(b.start, 0.0), (b.start, y_max)],
            BLACK.mix(0.25).stroke_width(1),
        )
    }))
    .context("drawing the phase boundaries")?;
    plot.draw_series(chart.bands.iter().map(|b| {
        Text::new(
            b.name.to_owned(),
            (b.start + 1.0, y_max * 0.97),
            ("sans-serif", 13).into_font(),
        )
    }))
    .context("labelling the phases")?;
    plot.configure_mesh()
        .disable_x_mesh()
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_desc("seconds since the replay started")
        .y_desc(chart.y_label)
        .draw()
        .context("drawing the axes")?;
    // A gap of more than 5 s (no requests during a recovery) breaks the line.
    for segment in chart.points.chunk_by(|a, b| b.0 - a.0 <= 5.0) {
        plot.draw_series(LineSeries::new(
            segment.iter().copied(),
            LINE.stroke_width(2),
        ))
        .context("drawing the series")?;
    }
    root.present().context("writing the SVG")?;
    Ok(())
}
