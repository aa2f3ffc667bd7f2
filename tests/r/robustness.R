# Reference values for tests/test_compare.py, tests/test_models.py, tests/test_thoughtworlds.py and
# tests/test_agreement.py (robustness and hygiene statistics). Run from the repository root:
#   Rscript tests/r/robustness.R
# Debian packages: r-base-core, r-cran-lme4, r-cran-lmertest, r-cran-afex, r-cran-car.
# Every data set is generated here (set.seed) and written beside the values computed from it.
suppressPackageStartupMessages({library(lmerTest); library(afex); library(car)})
out <- "tests/r"
wcsv <- function(x, name) write.csv(x, file.path(out, name), row.names = FALSE)
options(digits = 17)

# 1. Exact interval of d_z: invert pt(t, df, ncp) with uniroot (no MBESS in Debian) -------------------------
dz_ci <- function(t, n, conf = 0.95) {
  df <- n - 1; tail <- (1 - conf) / 2
  f <- function(ncp, target) pt(t, df, ncp) - target
  lo <- uniroot(f, c(t - 30, t + 30), target = 1 - tail, tol = 1e-13)$root
  hi <- uniroot(f, c(t - 30, t + 30), target = tail, tol = 1e-13)$root
  c(lo, hi) / sqrt(n)
}
grid <- expand.grid(t = c(seq(-8, 8, by = 0.25), 3.7, 4.7, 5.3, 5.5, 5.9), n = c(5, 20, 38, 40, 200))
ci <- t(mapply(dz_ci, grid$t, grid$n))
wcsv(data.frame(grid, ci_low = ci[, 1], ci_high = ci[, 2]), "dz_interval_reference.csv")

# 2. Random-intercept model score ~ marketing + (1 | company), REML, Satterthwaite df (lmerTest) -----------
set.seed(20261129)
balanced <- do.call(rbind, lapply(1:30, function(k) {
  u <- rnorm(1, 0, 0.5)
  data.frame(company_id = sprintf("B%02d", k), role = c("marketing", "sales"),
             score = 3.4 + c(0.3, 0) + u + rnorm(2, 0, 0.6))
}))
unbalanced <- do.call(rbind, lapply(1:36, function(k) {
  u <- rnorm(1, 0, 0.7)
  nm <- if (k %% 9 == 0) 0 else if (k %% 4 == 0) 3 else if (k %% 3 == 0) 2 else 1
  ns <- if (k %% 11 == 0) 0 else if (k %% 5 == 0) 2 else 1
  role <- c(rep("marketing", nm), rep("sales", ns))
  data.frame(company_id = sprintf("U%02d", k), role = role,
             score = 3.1 + 0.4 * (role == "marketing") + u + rnorm(length(role), 0, 0.8))
}))
# No company effect: with this seed the REML estimate of the company variance is zero (a singular fit).
boundary <- do.call(rbind, lapply(1:25, function(k) {
  role <- c("marketing", "sales", if (k %% 3 == 0) "sales")
  data.frame(company_id = sprintf("Z%02d", k), role = role,
             score = 3 + 0.25 * (role == "marketing") + rnorm(length(role), 0, 0.9))
}))
sets <- list(balanced = balanced, unbalanced = unbalanced, boundary = boundary)
rows <- list()
for (name in names(sets)) {
  d <- sets[[name]]
  d$marketing <- as.numeric(d$role == "marketing")
  wcsv(d[, c("company_id", "role", "score")], paste0("lmer_", name, ".csv"))
  m <- lmer(score ~ marketing + (1 | company_id), data = d, REML = TRUE)
  co <- summary(m)$coefficients["marketing", ]
  ct <- contest(m, c(0, 1), joint = FALSE, confint = TRUE, level = 0.95)
  vc <- as.data.frame(VarCorr(m))
  rows[[name]] <- data.frame(dataset = name, n = nrow(d), n_companies = length(unique(d$company_id)),
    estimate = co[["Estimate"]], se = co[["Std. Error"]], df = co[["df"]], t = co[["t value"]],
    p = co[["Pr(>|t|)"]], ci_low = ct$lower, ci_high = ct$upper,
    company_variance = vc$vcov[vc$grp == "company_id"], residual_variance = vc$vcov[vc$grp == "Residual"],
    singular = isSingular(m))
}
lmer_ref <- do.call(rbind, rows)
# Paired t on the balanced set (one respondent per function in every company): t.test(paired = TRUE)
w <- reshape(balanced, idvar = "company_id", timevar = "role", direction = "wide")
pt_res <- t.test(w$score.marketing, w$score.sales, paired = TRUE)
paired <- data.frame(dataset = "balanced_paired", n = nrow(balanced), n_companies = nrow(w),
  estimate = unname(pt_res$estimate), se = unname(pt_res$stderr), df = unname(pt_res$parameter),
  t = unname(pt_res$statistic), p = pt_res$p.value, ci_low = pt_res$conf.int[1], ci_high = pt_res$conf.int[2],
  company_variance = NA, residual_variance = NA, singular = NA)
wcsv(rbind(lmer_ref, paired), "lmer_satterthwaite_reference.csv")

# 3. Mixed ANOVA rater (between) x target (within), unequal groups: Type II and Type III (afex::aov_ez) --------
set.seed(7)
n_m <- 9; n_s <- 21
tw <- do.call(rbind, lapply(seq_len(n_m + n_s), function(i) {
  rater <- if (i <= n_m) "marketing" else "sales"
  s <- rnorm(1, 0, 0.5)
  mu <- c(marketing = 4.2, sales = 3.1)
  if (rater == "sales") mu <- c(marketing = 3.0, sales = 4.0)
  data.frame(respondent_id = sprintf("r%02d", i), rater = rater, target = c("marketing", "sales"),
             rating = mu + s + rnorm(2, 0, 0.6))
}))
wcsv(tw, "anova_mixed.csv")
an <- list()
for (type in c(2, 3)) {
  a <- suppressMessages(aov_ez("respondent_id", "rating", tw, between = "rater", within = "target", type = type,
                               anova_table = list(es = "pes", correction = "none")))
  tab <- a$anova_table
  an[[type]] <- data.frame(ss_type = type, term = rownames(tab), df1 = tab[["num Df"]], df2 = tab[["den Df"]],
                           F = tab[["F"]], p = tab[["Pr(>F)"]], np2 = tab[["pes"]])
}
wcsv(do.call(rbind, an), "anova_mixed_reference.csv")

# 4. Bland-Altman limits with 95% intervals: Bland & Altman (1986) approximate SEs and Carkeet (2015) exact ------
set.seed(3)
ba <- data.frame(diff = rnorm(17, 0.4, 1.3))
wcsv(ba, "bland_altman_data.csv")
n <- nrow(ba); b <- mean(ba$diff); s <- sd(ba$diff); z <- 1.96; tq <- qt(0.975, n - 1)  # 1.96 as Bland & Altman
se_b <- s / sqrt(n); se_l <- sqrt(3 * s^2 / n)
# Carkeet (2015): the limit b + z s has an exact interval from the non-central t with ncp = z sqrt(n)
k_lo <- qt(0.025, n - 1, ncp = z * sqrt(n)) / sqrt(n); k_hi <- qt(0.975, n - 1, ncp = z * sqrt(n)) / sqrt(n)
wcsv(data.frame(n = n, bias = b, sd = s, loa_low = b - z * s, loa_high = b + z * s,
  bias_ci_low = b - tq * se_b, bias_ci_high = b + tq * se_b,
  loa_low_ci_low = b - z * s - tq * se_l, loa_low_ci_high = b - z * s + tq * se_l,
  loa_high_ci_low = b + z * s - tq * se_l, loa_high_ci_high = b + z * s + tq * se_l,
  loa_low_exact_ci_low = b - k_hi * s, loa_low_exact_ci_high = b - k_lo * s,
  loa_high_exact_ci_low = b + k_lo * s, loa_high_exact_ci_high = b + k_hi * s), "bland_altman_reference.csv")
print(lmer_ref); print(paired); print(do.call(rbind, an))
