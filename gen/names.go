package gen

import (
	"fmt"
	"math/rand/v2"
)

// prefectures are the 47 prefectures, members of the local-government
// CEPTOAR before any municipality.
var prefectures = []string{"北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県",
	"東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県", "滋賀県", "京都府",
	"大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県", "香川県", "愛媛県", "高知県", "福岡県",
	"佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県"}

// Place names are made of two parts, as many Japanese ones are (青森, 高崎 …).
var placeHeads = []string{"青", "赤", "白", "黒", "東", "西", "南", "北", "上", "下", "中", "大", "小", "高", "新", "古", "長", "広", "富",
	"松", "杉", "桜", "梅", "竹", "若", "石", "金", "玉", "朝", "日", "月", "星", "花", "鶴", "亀", "藤", "柏", "桑", "宮", "吉"}

var placeTails = []string{"川", "山", "田", "野", "原", "浜", "島", "沢", "岡", "森", "井", "津", "倉", "崎", "見", "瀬", "谷", "木", "根",
	"部", "江", "浦", "代", "城", "坂", "畑", "戸", "堂", "橋", "里"}

var regions = []string{"北日本", "東日本", "西日本", "中部", "関西", "九州", "四国", "北陸", "東北", "首都圏", "湘南", "瀬戸内", "山陰", "南海", "東海", "北関東"}

// suffixes name an organisation after its CEPTOAR (members) or its sector
// (others). The first entry is the most common form.
var ceptoarSuffixes = map[string][]string{
	"t_ceptoar":                 {"通信株式会社", "ネットワークス株式会社", "テレコム株式会社"},
	"catv_ceptoar":              {"ケーブルテレビ株式会社", "ケーブルネットワーク株式会社", "有線テレビ放送株式会社"},
	"broadcast_ceptoar":         {"放送株式会社", "テレビ株式会社", "エフエム放送株式会社"},
	"bank_ceptoar":              {"信用金庫", "銀行", "信用組合", "農業協同組合", "労働金庫"},
	"securities_ceptoar":        {"証券株式会社"},
	"life_insurance_ceptoar":    {"生命保険株式会社"},
	"nonlife_insurance_ceptoar": {"損害保険株式会社", "火災海上保険株式会社"},
	"aviation_ceptoar":          {"航空株式会社"},
	"railway_ceptoar":           {"鉄道株式会社", "電鉄株式会社"},
	"electricity_ceptoar":       {"電力株式会社"},
	"gas_ceptoar":               {"ガス株式会社"},
	"medical_ceptoar":           {"医師会", "病院協会"},
	"water_ceptoar":             {"市水道局"},
	"logistics_ceptoar":         {"運輸株式会社", "海運株式会社", "倉庫株式会社"},
	"chemical_ceptoar":          {"化学工業株式会社", "石油化学株式会社"},
	"credit_ceptoar":            {"カード株式会社", "クレジット株式会社"},
	"petroleum_ceptoar":         {"石油株式会社", "エネルギー株式会社"},
}

var sectorSuffixes = map[string][]string{
	"info_comm":   {"通信株式会社", "インターネット株式会社", "データセンター株式会社"},
	"finance":     {"信用組合", "証券株式会社", "信託銀行", "資金決済株式会社"},
	"aviation":    {"エアライン株式会社", "航空サービス株式会社"},
	"airport":     {"空港ビル株式会社", "空港株式会社"},
	"railway":     {"交通株式会社", "鉄道株式会社"},
	"electricity": {"でんき株式会社", "パワー株式会社", "新電力株式会社"},
	"gas":         {"ガス株式会社", "ガス事業協同組合"},
	"government":  {"広域連合", "一部事務組合"},
	"medical":     {"総合病院", "中央病院", "市民病院", "医療センター"},
	"water":       {"市水道局", "町水道課", "水道企業団"},
	"logistics":   {"物流株式会社", "通運株式会社", "陸運株式会社"},
	"chemical":    {"化成株式会社", "ケミカル株式会社"},
	"credit":      {"信販株式会社", "ペイメント株式会社"},
	"petroleum":   {"石油販売株式会社", "オイル株式会社"},
	"port":        {"港湾運送株式会社", "埠頭株式会社", "港運株式会社"},
}

// municipality makes a town name; the local-government CEPTOAR has about
// 1,700 of them.
func municipality(r *rand.Rand) string {
	return pick(r, placeHeads) + pick(r, placeTails) + pick(r, []string{"市", "市", "町", "町", "村"})
}

// companyPlace is the first part of a company's name.
func companyPlace(r *rand.Rand) string {
	switch r.IntN(4) {
	case 0:
		return pick(r, regions)
	case 1:
		p := []rune(pick(r, prefectures))
		if len(p) > 2 {
			p = p[:len(p)-1] // 青森県 → 青森
		}
		return string(p)
	default:
		return pick(r, placeHeads) + pick(r, placeTails)
	}
}

// uniqueName draws names until one is new; after a few tries it numbers
// the last one, so any count of organisations can be made.
func uniqueName(r *rand.Rand, taken map[string]bool, draw func() string) string {
	var name string
	for range 12 {
		name = draw()
		if !taken[name] {
			taken[name] = true
			return name
		}
	}
	for i := 2; ; i++ {
		n := fmt.Sprintf("%s（第%d）", name, i)
		if !taken[n] {
			taken[n] = true
			return n
		}
	}
}
