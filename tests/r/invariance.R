# Reference values for research.analysis.invariance, computed with lavaan.
#
# Run from anywhere:  Rscript tests/r/invariance.R
#
# 1. Writes the data sets (only if missing, so the committed CSVs stay the
#    source of truth): three generated Likert data sets (fixed seeds), one
#    continuous data set with a planted Heywood case, and lavaan's own
#    HolzingerSwineford1939 (Pasteur / Grant-White).
# 2. Reads them back from CSV, keeps the listwise-complete respondents of the
#    two groups, and fits cfa(model, group = ..., group.equal = ...) with
#    lavaan's defaults for the configural, metric and scalar levels.
# 3. Writes invariance_reference.csv (fit measures, one row per data set and
#    level) and invariance_reference_estimates.csv (every parameter estimate).
#
# The Python tests read only the CSVs; they never need R.

suppressPackageStartupMessages(library(lavaan))

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else "tests/r"

# ---------------------------------------------------------------------------
# data sets
# ---------------------------------------------------------------------------

likert <- function(x) {
  x[] <- pmin(pmax(round(x), 1), 5)
  x
}

# y = nu + lambda * eta + e, rounded to 1..5; one block of rows per group.
simulate_group <- function(n, lambda, nu, theta, phi, alpha) {
  k <- ncol(lambda)
  eta <- matrix(rnorm(n * k), n, k) %*% chol(phi)
  eta <- sweep(eta, 2, alpha, "+")
  e <- matrix(rnorm(n * nrow(lambda)), n, nrow(lambda)) %*% diag(sqrt(theta))
  y <- sweep(eta %*% t(lambda), 2, nu, "+") + e
  likert(y)
}

loading_matrix <- function(sizes, values) {
  lambda <- matrix(0, sum(sizes), length(sizes))
  start <- cumsum(c(0, sizes))
  for (f in seq_along(sizes)) {
    lambda[(start[f] + 1):start[f + 1], f] <- values[(start[f] + 1):start[f + 1]]
  }
  lambda
}

write_if_missing <- function(df, name) {
  path <- file.path(here, name)
  if (!file.exists(path)) write.csv(df, path, row.names = FALSE, na = "")
}

# A: three factors (3, 4, 3 items); invariance holds (loadings and intercepts
# equal, sales has higher factor means and variances); a few missing answers
# and a third role that the analysis must drop.
set.seed(20240501)
items_a <- c("a1", "a2", "a3", "b1", "b2", "b3", "b4", "c1", "c2", "c3")
lam_a <- loading_matrix(c(3, 4, 3), c(.9, .8, .7, .8, .9, .6, .7, .9, .8, .7))
nu_a <- c(3.2, 3.0, 2.8, 3.1, 2.9, 3.3, 3.0, 2.7, 3.1, 3.0)
th_a <- rep(.45, 10)
phi_a <- matrix(c(1, .4, .3, .4, 1, .5, .3, .5, 1), 3)
ya <- rbind(
  simulate_group(74, lam_a, nu_a, th_a, phi_a, c(0, 0, 0)),
  simulate_group(58, lam_a, nu_a, th_a, 1.2 * phi_a, c(.3, -.2, .1)),
  simulate_group(8, lam_a, nu_a, th_a, phi_a, c(0, 0, 0))
)
colnames(ya) <- items_a
da <- data.frame(respondent = sprintf("R%03d", seq_len(nrow(ya))),
                 role = rep(c("marketing", "sales", "management"), c(74, 58, 8)),
                 ya, check.names = FALSE)
miss <- cbind(c(3, 17, 40, 80, 95, 101, 120), c(2, 5, 9, 3, 10, 4, 6) + 2)
for (i in seq_len(nrow(miss))) da[miss[i, 1], miss[i, 2]] <- NA
write_if_missing(da, "invariance_likert_invariant.csv")

# B: two factors of four items; in sales the loading of p3 is much lower and
# the intercept of q2 is shifted up (metric and scalar invariance fail).
set.seed(20240502)
items_b <- c("p1", "p2", "p3", "p4", "q1", "q2", "q3", "q4")
lam_b <- loading_matrix(c(4, 4), c(.9, .8, .9, .7, .8, .9, .7, .8))
lam_b_sales <- lam_b
lam_b_sales[3, 1] <- .2
nu_b <- c(3.0, 3.2, 2.9, 3.1, 2.8, 2.9, 3.2, 3.0)
nu_b_sales <- nu_b
nu_b_sales[6] <- nu_b[6] + .9
phi_b <- matrix(c(1, .45, .45, 1), 2)
yb <- rbind(
  simulate_group(70, lam_b, nu_b, rep(.4, 8), phi_b, c(0, 0)),
  simulate_group(55, lam_b_sales, nu_b_sales, rep(.4, 8), phi_b, c(0, 0))
)
colnames(yb) <- items_b
db <- data.frame(respondent = sprintf("R%03d", seq_len(nrow(yb))),
                 role = rep(c("marketing", "sales"), c(70, 55)), yb)
write_if_missing(db, "invariance_likert_noninvariant.csv")

# C: an instrument without subscales: one factor, five items.
set.seed(20240503)
items_c <- c("s1", "s2", "s3", "s4", "s5")
lam_c <- matrix(c(.8, .7, .9, .6, .8), 5, 1)
yc <- rbind(
  simulate_group(60, lam_c, c(3, 3.2, 2.8, 3.1, 3), rep(.5, 5), matrix(1), 0),
  simulate_group(45, lam_c, c(3, 3.2, 2.8, 3.1, 3), rep(.5, 5), matrix(1.1), .2)
)
colnames(yc) <- items_c
dc <- data.frame(respondent = sprintf("R%03d", seq_len(nrow(yc))),
                 role = rep(c("marketing", "sales"), c(60, 45)), yc)
write_if_missing(dc, "invariance_likert_onefactor.csv")

# D: continuous answers with a planted Heywood case: h1 = a + b correlates more
# with h2 and h3 than one factor allows, so its residual variance goes negative.
set.seed(20240504)
heywood_group <- function(n) {
  a <- rnorm(n); b <- rnorm(n)
  data.frame(h1 = a + b + rnorm(n, sd = .1),
             h2 = a + .3 * b + rnorm(n, sd = .5),
             h3 = b + .3 * a + rnorm(n, sd = .5),
             h4 = .5 * a + .5 * b + rnorm(n, sd = .8))
}
dd <- rbind(heywood_group(70), heywood_group(55))
dd <- data.frame(respondent = sprintf("R%03d", seq_len(nrow(dd))),
                 role = rep(c("marketing", "sales"), c(70, 55)), round(dd, 4))
write_if_missing(dd, "invariance_heywood.csv")

# E: lavaan's HolzingerSwineford1939, the classic three-factor model by school.
hs <- HolzingerSwineford1939[, c("id", "school", paste0("x", 1:9))]
write_if_missing(hs, "invariance_holzinger.csv")

# ---------------------------------------------------------------------------
# fits
# ---------------------------------------------------------------------------

datasets <- list(
  list(name = "likert_invariant", file = "invariance_likert_invariant.csv",
       group = "role", groups = c("marketing", "sales"),
       model = "F1 =~ a1 + a2 + a3; F2 =~ b1 + b2 + b3 + b4; F3 =~ c1 + c2 + c3"),
  list(name = "likert_noninvariant", file = "invariance_likert_noninvariant.csv",
       group = "role", groups = c("marketing", "sales"),
       model = "P =~ p1 + p2 + p3 + p4; Q =~ q1 + q2 + q3 + q4"),
  list(name = "likert_onefactor", file = "invariance_likert_onefactor.csv",
       group = "role", groups = c("marketing", "sales"),
       model = "S =~ s1 + s2 + s3 + s4 + s5"),
  list(name = "heywood", file = "invariance_heywood.csv",
       group = "role", groups = c("marketing", "sales"),
       model = "H =~ h1 + h2 + h3 + h4"),
  list(name = "holzinger", file = "invariance_holzinger.csv",
       group = "school", groups = c("Pasteur", "Grant-White"),
       model = "visual =~ x1 + x2 + x3; textual =~ x4 + x5 + x6; speed =~ x7 + x8 + x9")
)
levels <- list(configural = "", metric = "loadings",
               scalar = c("loadings", "intercepts"))
measures <- c("npar", "chisq", "df", "cfi", "rmsea", "srmr", "srmr_bentler_nomean",
              "baseline.chisq", "baseline.df")

fits <- list()
estimates <- list()
for (ds in datasets) {
  d <- read.csv(file.path(here, ds$file), check.names = FALSE)
  d <- d[d[[ds$group]] %in% ds$groups, ]
  for (level in names(levels)) {
    warn <- character(0)
    fit <- withCallingHandlers(
      cfa(ds$model, data = d, group = ds$group, group.label = ds$groups,
          group.equal = levels[[level]]),
      warning = function(w) {
        warn <<- c(warn, gsub("\\s+", " ", conditionMessage(w)))
        invokeRestart("muffleWarning")
      })
    fm <- fitMeasures(fit, measures)
    nobs <- unlist(lavInspect(fit, "nobs"))
    fits[[length(fits) + 1]] <- data.frame(
      dataset = ds$name, level = level, group = ds$group,
      group_labels = paste(ds$groups, collapse = "|"), model = ds$model,
      n_1 = nobs[1], n_2 = nobs[2],
      converged = lavInspect(fit, "converged"),
      npar = fm[["npar"]], chi2 = fm[["chisq"]], df = fm[["df"]],
      cfi = fm[["cfi"]], rmsea = fm[["rmsea"]], srmr = fm[["srmr"]],
      srmr_nomean = fm[["srmr_bentler_nomean"]],
      baseline_chi2 = fm[["baseline.chisq"]], baseline_df = fm[["baseline.df"]],
      lavaan_warnings = paste(unique(warn), collapse = " | "))
    pe <- parameterEstimates(fit, se = FALSE)
    estimates[[length(estimates) + 1]] <- data.frame(
      dataset = ds$name, level = level,
      group = ds$groups[pe$group], lhs = pe$lhs, op = pe$op, rhs = pe$rhs,
      est = pe$est)
  }
}
fits <- do.call(rbind, fits)
estimates <- do.call(rbind, estimates)

header <- sprintf("# %s; lavaan %s; made by tests/r/invariance.R",
                  R.version.string, as.character(packageVersion("lavaan")))
write_with_header <- function(df, name) {
  path <- file.path(here, name)
  writeLines(header, path)
  suppressWarnings(write.table(df, path, sep = ",", row.names = FALSE, na = "",
                               append = TRUE, qmethod = "double"))
}
write_with_header(fits, "invariance_reference.csv")
write_with_header(estimates, "invariance_reference_estimates.csv")
print(fits[, c("dataset", "level", "npar", "chi2", "df", "cfi", "rmsea", "srmr")], digits = 6)
cat(unique(fits$lavaan_warnings), sep = "\n")
