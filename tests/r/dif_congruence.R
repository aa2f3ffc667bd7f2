# Reference values for research.analysis.dif and research.analysis.congruence, computed in R.
#
# Run from anywhere:  Rscript tests/r/dif_congruence.R
# Needs only Debian's r-base-core and r-cran-ordinal (MASS ships with R).
#
# 1. Writes the data sets (only if missing, so the committed CSVs stay the source of truth):
#    dif_data.csv (one row per respondent: role and keyed items of two instruments, some answers
#    missing, three items with planted DIF), dif_items.csv (instrument, item, subscale; empty subscale
#    = the whole instrument), congruence_data.csv (one row per company: the marketing and sales mean
#    totals of a 4-item 1..5 instrument, midpoint 12, and three outcomes).
# 2. DIF: for each item, on respondents of the two roles with the item and its matching score (mean of
#    the respondent's other items of the same subscale, or of the instrument when there is none), fits
#    ordinal::clm (logit link) for y ~ match, y ~ match + marketing, y ~ match * marketing, and MASS::polr
#    for the same three as a second check; writes dif_reference.csv.
# 3. Congruence: lm(z ~ X + Y + I(X^2) + I(X*Y) + I(Y^2)) with X, Y the totals minus 12; the response
#    surface parameters a1..a5 and their t-tests from vcov(); x0, y0 and the principal axes as in the
#    RSA package; writes congruence_reference.csv.
#
# The Python tests read only the CSVs; they never need R.

suppressPackageStartupMessages({
  library(ordinal)
  library(MASS)
})

args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else "tests/r"
path <- function(name) file.path(here, name)
versions <- list(r_version = R.version.string,
                 ordinal_version = as.character(packageVersion("ordinal")),
                 mass_version = as.character(packageVersion("MASS")))

# ---------------------------------------------------------------------------
# data sets
# ---------------------------------------------------------------------------

if (!file.exists(path("dif_data.csv"))) {
  set.seed(20261129)
  n <- 180
  role <- rep(c("marketing", "sales"), length.out = n)
  role[c(7, 50, 111)] <- "other"               # neither group: must be ignored
  mk <- as.numeric(role == "marketing")
  trait1 <- rnorm(n)
  trait2 <- 0.5 * trait1 + rnorm(n, sd = 0.87)
  cut5 <- function(x, shift = 0) pmin(pmax(round(3 + x + shift), 1), 5)
  d <- data.frame(respondent = sprintf("r%03d", 1:n), role = role)
  d$A1 <- cut5(trait1 + rnorm(n, sd = 0.8))
  d$A2 <- cut5(trait1 + rnorm(n, sd = 0.8), shift = 0.9 * mk)            # uniform DIF
  d$A3 <- cut5(trait1 + rnorm(n, sd = 0.8))
  d$A4 <- cut5(trait1 + rnorm(n, sd = 0.8))
  d$B1 <- cut5((1 - 0.7 * mk) * trait2 + rnorm(n, sd = 0.7))             # non-uniform DIF
  d$B2 <- cut5(trait2 + rnorm(n, sd = 0.8))
  d$B3 <- pmin(pmax(round(2 + 0.8 * trait2 + rnorm(n, sd = 0.6)), 1), 3)  # three levels
  d$C1 <- cut5(trait2 + rnorm(n, sd = 0.9))
  d$C2 <- cut5(trait2 + rnorm(n, sd = 0.9))
  d$C3 <- cut5(trait2 + rnorm(n, sd = 0.9), shift = -0.8 * mk)           # uniform DIF, sales higher
  c4 <- cut5(trait2 + rnorm(n, sd = 0.9))
  d$C4 <- ifelse(c4 == 2, 3, c4)                                         # level 2 never used
  for (v in c("A1", "A2", "A3", "A4", "B1", "B2", "B3", "C1", "C2", "C3", "C4")) {
    d[[v]][sample(n, 9)] <- NA                                           # 5% missing answers
  }
  d$A3[1:4] <- NA; d$A1[1:4] <- NA; d$A4[1:4] <- NA                      # no matching score for A2
  write.csv(d, path("dif_data.csv"), row.names = FALSE, na = "")
  items <- data.frame(
    instrument = c(rep("inst1", 7), rep("inst2", 4)),
    item = c("A1", "A2", "A3", "A4", "B1", "B2", "B3", "C1", "C2", "C3", "C4"),
    subscale = c("A", "A", "A", "A", "B", "B", "B", "", "", "", ""))
  write.csv(items, path("dif_items.csv"), row.names = FALSE, na = "")
}

if (!file.exists(path("congruence_data.csv"))) {
  set.seed(2026)
  n <- 70
  marketing <- pmin(pmax(12 + rnorm(n, sd = 3), 4), 20)
  sales <- pmin(pmax(12 + 0.4 * (marketing - 12) + rnorm(n, sd = 2.8), 4), 20)
  X <- marketing - 12; Y <- sales - 12
  d <- data.frame(company = sprintf("c%02d", 1:n), marketing = marketing, sales = sales)
  d$trust <- 4 + 0.1 * (X + Y) - 0.06 * (X - Y)^2 + rnorm(n, sd = 0.6)   # congruence: a ridge
  d$revenue_growth <- 2 + 0.3 * X - 0.1 * Y + 0.02 * X * Y + rnorm(n, sd = 1)
  d$satisfaction <- 3 + 0.05 * X^2 + rnorm(n, sd = 0.8)
  d$trust[c(3, 19, 44)] <- NA                                            # three companies lack it
  write.csv(d, path("congruence_data.csv"), row.names = FALSE, na = "")
}

# ---------------------------------------------------------------------------
# differential item functioning
# ---------------------------------------------------------------------------

d <- read.csv(path("dif_data.csv"), stringsAsFactors = FALSE)
items <- read.csv(path("dif_items.csv"), stringsAsFactors = FALSE, na.strings = "NA")
items$subscale[is.na(items$subscale)] <- ""
ctrl <- clm.control(gradTol = 1e-10, maxIter = 200)

rows <- list()
for (inst in unique(items$instrument)) {
  its <- items[items$instrument == inst, ]
  inst_rows <- list()
  for (k in seq_len(nrow(its))) {
    item <- its$item[k]
    others <- its$item[its$subscale == its$subscale[k] & its$item != item]
    m <- rowMeans(d[, others, drop = FALSE], na.rm = TRUE)
    m[is.nan(m)] <- NA
    keep <- d$role %in% c("marketing", "sales") & !is.na(d[[item]]) & !is.na(m)
    dd <- data.frame(y = factor(d[[item]][keep], ordered = TRUE), match = m[keep],
                     marketing = as.numeric(d$role[keep] == "marketing"))
    f1 <- clm(y ~ match, data = dd, link = "logit", control = ctrl)
    f2 <- clm(y ~ match + marketing, data = dd, link = "logit", control = ctrl)
    f3 <- clm(y ~ match * marketing, data = dd, link = "logit", control = ctrl)
    p1 <- polr(y ~ match, data = dd, method = "logistic", Hess = TRUE)
    p2 <- polr(y ~ match + marketing, data = dd, method = "logistic", Hess = TRUE)
    p3 <- polr(y ~ match * marketing, data = dd, method = "logistic", Hess = TRUE)
    ll <- c(as.numeric(logLik(f1)), as.numeric(logLik(f2)), as.numeric(logLik(f3)))
    uni <- 2 * (ll[2] - ll[1]); non <- 2 * (ll[3] - ll[2]); omni <- 2 * (ll[3] - ll[1])
    inst_rows[[k]] <- data.frame(
      instrument = inst, item = item, n = nrow(dd), n_levels = nlevels(dd$y),
      ll1 = ll[1], ll2 = ll[2], ll3 = ll[3],
      ll1_polr = as.numeric(logLik(p1)), ll2_polr = as.numeric(logLik(p2)),
      ll3_polr = as.numeric(logLik(p3)),
      uniform_chi2 = uni, uniform_p = pchisq(uni, 1, lower.tail = FALSE),
      nonuniform_chi2 = non, nonuniform_p = pchisq(non, 1, lower.tail = FALSE),
      omnibus_p = pchisq(omni, 2, lower.tail = FALSE),
      uniform_coef = unname(coef(f2)["marketing"]),
      uniform_se = unname(sqrt(diag(vcov(f2)))["marketing"]),
      nonuniform_coef = unname(coef(f3)["match:marketing"]),
      nonuniform_se = unname(sqrt(diag(vcov(f3)))["match:marketing"]),
      converged = all(c(f1$convergence$code, f2$convergence$code, f3$convergence$code) == 0))
  }
  inst_rows <- do.call(rbind, inst_rows)
  inst_rows$p_holm <- p.adjust(inst_rows$omnibus_p, method = "holm")
  rows[[inst]] <- inst_rows
}
dif <- do.call(rbind, rows)
dif <- cbind(dif, as.data.frame(versions))
write.csv(dif, path("dif_reference.csv"), row.names = FALSE)

# ---------------------------------------------------------------------------
# response surface analysis
# ---------------------------------------------------------------------------

cd <- read.csv(path("congruence_data.csv"), stringsAsFactors = FALSE)
A <- rbind(a1 = c(0, 1, 1, 0, 0, 0), a2 = c(0, 0, 0, 1, 1, 1), a3 = c(0, 1, -1, 0, 0, 0),
           a4 = c(0, 0, 0, 1, -1, 1), a5 = c(0, 0, 0, 1, 0, -1))
rows <- list()
for (outcome in c("trust", "revenue_growth", "satisfaction")) {
  dd <- data.frame(X = cd$marketing - 12, Y = cd$sales - 12, z = cd[[outcome]])
  dd <- dd[complete.cases(dd), ]
  fit <- lm(z ~ X + Y + I(X^2) + I(X * Y) + I(Y^2), data = dd)
  b <- unname(coef(fit)); V <- unname(vcov(fit)); se_b <- sqrt(diag(V))
  a <- drop(A %*% b); se_a <- sqrt(diag(A %*% V %*% t(A)))
  p_a <- 2 * pt(abs(a / se_a), df.residual(fit), lower.tail = FALSE)
  den <- 4 * b[4] * b[6] - b[5]^2
  x0 <- (b[3] * b[5] - 2 * b[2] * b[6]) / den
  y0 <- (b[2] * b[5] - 2 * b[3] * b[4]) / den
  p11 <- (b[6] - b[4] + sqrt((b[4] - b[6])^2 + b[5]^2)) / b[5]
  p21 <- (b[6] - b[4] - sqrt((b[4] - b[6])^2 + b[5]^2)) / b[5]
  row <- data.frame(outcome = outcome, n_companies = nrow(dd), r2 = summary(fit)$r.squared,
                    x0 = x0, y0 = y0, p10 = y0 - p11 * x0, p11 = p11, p20 = y0 - p21 * x0, p21 = p21)
  for (i in 0:5) {
    row[[paste0("b", i)]] <- b[i + 1]
    row[[paste0("se_b", i)]] <- se_b[i + 1]
    row[[paste0("p_b", i)]] <- summary(fit)$coefficients[i + 1, 4]
  }
  for (i in 1:5) {
    row[[paste0("a", i)]] <- a[i]
    row[[paste0("se_a", i)]] <- se_a[i]
    row[[paste0("p_a", i)]] <- p_a[i]
  }
  rows[[outcome]] <- row
}
cong <- do.call(rbind, rows)
cong <- cbind(cong, as.data.frame(versions[c("r_version")]),
              stats_version = as.character(packageVersion("stats")))
write.csv(cong, path("congruence_reference.csv"), row.names = FALSE)
cat("wrote", path("dif_reference.csv"), "and", path("congruence_reference.csv"), "\n")
